"""Brands: create, list, get and delete an account's sending brands, and an envelope's `brandId` checked.

Only the brand's identity is modelled (name, company, sending/signing default); logos, colours and resource
files are refused (docs/sandbox.md). Reference:
https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accountbrands/
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import refusals, router
from .api import ApiError, Caller, json_response, read_json, require_admin, rest_endpoint
from .models import Account, Brand
from .serializers import as_string

MODELLED_FIELDS = frozenset({"brandName", "brandCompany", "isSendingDefault", "isSigningDefault", "brandId"})
# UNVERIFIED: DocuSign's errorCode for an envelope naming a brand the account does not have.
UNKNOWN_BRAND = ("BRAND_NOT_FOUND", "The brand specified by 'brandId' does not exist in the account.")


def brand_for_envelope(account: Account, brand_id: str) -> str:
    """The envelope's `brandId` when the account has that brand; "" when none is named; refused otherwise."""
    if not brand_id:
        return ""
    brand = Brand.objects.filter(account=account, brand_id__iexact=brand_id).first()
    if brand is None:
        raise ApiError(*UNKNOWN_BRAND)
    return brand.brand_id


def brand_json(brand: Brand) -> dict[str, Any]:
    return {"brandId": brand.brand_id, "brandName": brand.name, "brandCompany": brand.company,
            "isSendingDefault": as_string(brand.is_sending_default),
            "isSigningDefault": as_string(brand.is_signing_default), "isOverridingCompanyName": "false"}


def brands_response(account: Account) -> dict[str, Any]:
    """`brandsResponse`: every brand of the account and the two default brand ids."""
    brands = list(Brand.objects.filter(account=account).order_by("created", "pk"))
    data: dict[str, Any] = {"brands": [brand_json(b) for b in brands]}
    for key, flag in (("senderBrandIdDefault", "is_sending_default"), ("recipientBrandIdDefault", "is_signing_default")):
        default = next((b.brand_id for b in brands if getattr(b, flag)), "")
        if default:
            data[key] = default
    return data


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _create(caller: Caller, body: dict[str, Any]) -> HttpResponse:
    unmodelled = sorted(key for key in body.keys() - MODELLED_FIELDS if not refusals.is_off(body[key]))
    if unmodelled:
        raise ApiError(refusals.UNMODELLED, f"The sandbox does not model the brand's '{unmodelled[0]}'.")
    name = body.get("brandName")
    if not isinstance(name, str) or not name.strip():
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "'brandName' must be specified.")  # UNVERIFIED message
    if body.get("brandId"):
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "'brandId' is set by DocuSign.")  # the SDK's description: an error if brandId is set
    with transaction.atomic(using=router.database()):
        sending, signing = _flag(body, "isSendingDefault"), _flag(body, "isSigningDefault")
        # One default of each kind per account: a new default replaces the old.
        if sending:
            Brand.objects.filter(account=caller.account).update(is_sending_default=False)
        if signing:
            Brand.objects.filter(account=caller.account).update(is_signing_default=False)
        Brand.objects.create(account=caller.account, name=name.strip()[:100],
                             company=str(body.get("brandCompany") or "")[:100],
                             is_sending_default=sending, is_signing_default=signing)
    return json_response(brands_response(caller.account), status=201)


@rest_endpoint
@require_http_methods(["GET", "POST", "DELETE"])
def brands(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /brands; POST /brands with one `brand`; DELETE /brands with `brandsRequest` {brands: [{brandId}]}."""
    if request.method == "GET":
        return json_response(brands_response(caller.account))
    require_admin(caller)
    body = read_json(request)
    if request.method == "POST":
        return _create(caller, body)
    listed = body.get("brands")
    if not isinstance(listed, list) or not all(isinstance(b, dict) for b in listed):
        raise ApiError("INVALID_REQUEST_BODY", "The request body is missing or improperly formatted.")
    ids = [str(b.get("brandId") or "") for b in listed]
    Brand.objects.filter(account=caller.account, brand_id__in=ids).delete()
    return json_response(brands_response(caller.account))


@rest_endpoint
@require_http_methods(["GET", "DELETE"])
def brand(request: HttpRequest, caller: Caller, brand_id: str) -> HttpResponse:
    """GET /brands/{brandId}; DELETE /brands/{brandId} (200, no body)."""
    found = Brand.objects.filter(account=caller.account, brand_id__iexact=brand_id).first()
    if found is None:
        raise ApiError(*UNKNOWN_BRAND)
    if request.method == "GET":
        return json_response(brand_json(found))
    require_admin(caller)
    found.delete()
    return HttpResponse(status=200)
