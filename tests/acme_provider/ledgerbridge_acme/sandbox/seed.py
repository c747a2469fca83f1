"""Demo data: two companys, so the consent page offers a choice and a reconnect to the other is refused.

The first has enough customers to need more than one page when a client asks for small pages, an
item whose name the end-to-end suite uses ("Consulting hours"), income and expense accounts (only
income ones may be imported), and two tax rates.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge_acme.sandbox.books import Books

COMPANIES = (
    ("1001", "Harbour Light Cafe Ltd", "USD"),
    ("1002", "Northwind Design Studio", "USD"),
)

CUSTOMERS = (
    ("Acme Outfitters", "Acme Outfitters Inc", "Ada", "Mills", "accounts@acme-outfitters.example"),
    ("Blue Fern Florists", "Blue Fern Florists LLC", "Ben", "Okafor", "hello@bluefern.example"),
    ("Cobalt Logistics", "Cobalt Logistics Ltd", "Chen", "Wu", "billing@cobalt-logistics.example"),
    ("Dana Whitfield", "", "Dana", "Whitfield", "dana.whitfield@mail.example"),
    ("Evergreen Dental", "Evergreen Dental Group", "Eli", "Navarro", "office@evergreen-dental.example"),
    ("Foxglove Bakery", "Foxglove Bakery", "Fay", "Lund", "orders@foxglove.example"),
    ("Granite Peak Gym", "Granite Peak Fitness LLC", "Gus", "Brennan", "frontdesk@granitepeak.example"),
    ("Harper & Vale Law", "Harper & Vale LLP", "Hana", "Vale", "ap@harpervale.example"),
)


def seed(books: Books) -> None:
    """Replace whatever the books hold with the demo companys."""
    books.clear()
    for number, (company_id, name, currency) in enumerate(COMPANIES):
        books.add_company(company_id, name, currency)
        sales = books.create(company_id, "accounts", {"name": "Sales", "code": "4000", "type": "income"})
        books.create(company_id, "accounts", {"name": "Services revenue", "code": "4100", "type": "income"})
        books.create(company_id, "accounts", {"name": "Office supplies", "code": "6100", "type": "expense"})
        books.create(company_id, "tax_rates", {"name": "No tax", "code": "NONE", "rate": Decimal("0")})
        standard = books.create(company_id, "tax_rates", {"name": "Sales tax 8.25%", "code": "STD",
                                                          "rate": Decimal("8.25")})
        for name, description, price, taxed in (
            ("Consulting hours", "Consulting, per hour", Decimal("60.00"), False),
            ("Design work", "Design, per hour", Decimal("85.00"), True),
            ("Hosting (monthly)", "Managed hosting, one month", Decimal("29.90"), True),
        ):
            books.create(company_id, "items", {
                "name": name, "description": description, "type": "service", "unit_price": price,
                "income_account_id": sales["id"], "tax_rate_id": standard["id"] if taxed else None})
        for display, company_name, given, family, email in CUSTOMERS if number == 0 else CUSTOMERS[:3]:
            books.create(company_id, "customers", {
                "display_name": display, "company_name": company_name, "given_name": given,
                "family_name": family, "email": email, "phone": "", "currency": currency,
                "address": {"line1": "1 Main Street", "city": "Springfield", "country": "US"}})
