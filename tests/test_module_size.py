"""No product module passes 400 lines: a longer one holds more than one job and is split by concept."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("portal", "background", "pages", "api", "tenants", "docusign_integration", "outbound_events",
                    "docusign_sandbox")
MAX_LINES = 400


def product_modules() -> list[Path]:
    return sorted(path for package in PRODUCT_PACKAGES for path in (ROOT / package).rglob("*.py")
                  if "migrations" not in path.relative_to(ROOT).parts)


def test_the_walk_sees_every_product_package() -> None:
    seen = {path.relative_to(ROOT).parts[0] for path in product_modules()}
    assert seen == set(PRODUCT_PACKAGES)


def test_no_product_module_passes_400_lines() -> None:
    too_long = {str(path.relative_to(ROOT)): n for path in product_modules()
                if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"split these modules by concept (at most {MAX_LINES} lines each): {too_long}"
