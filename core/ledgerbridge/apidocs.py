"""The API reference at `/schema`, served entirely from this server.

Litestar's own documentation pages load their scripts from public CDNs and start them with an
inline script; on the admin origin that would let a compromised CDN act as a signed-in owner, and
the content policy (`ledgerbridge.security_headers`) refuses inline scripts anyway. So the page here
loads Swagger UI from the `swagger-ui-bundle` package and a small start-up script of ours, all under
`/schema/assets/`, and Swagger UI fetches the schema from `/schema/openapi.json`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
OUR_DIR = Path(__file__).resolve().parent / "apidocs_assets"
ASSETS = "/assets"  # below the OpenAPI router's own path, `/schema`


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI with every asset on this origin and no inline script."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=[path, "/"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        root = request.app.openapi_config.path if request.app.openapi_config else "/schema"
        assets = f"{root}{ASSETS}"
        schema_url = html.escape(self.get_openapi_json_route(request))
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title>"
            f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>"
            f"<link rel='stylesheet' href='{assets}/swagger-ui.css'>"
            f"<script src='{assets}/swagger-ui-bundle.js' defer></script>"
            f"<script src='{assets}/swagger-ui-standalone-preset.js' defer></script>"
            f"<script src='{assets}/ledgerbridge-docs.js' defer></script>"
            f"</head><body><main id='swagger-container' data-schema-url='{schema_url}'></main></body></html>"
        ).encode()

    def receive_router(self, router: Router) -> None:
        router.register(
            create_static_files_router(
                path=ASSETS, directories=[OUR_DIR, SWAGGER_DIR], name="apidocs_assets", include_in_schema=False
            )
        )
