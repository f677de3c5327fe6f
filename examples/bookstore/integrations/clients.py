"""Clients for the bookstore's external services.

There is no network here: each call sleeps for ``latency`` seconds to stand in for the
round trip, then answers from local data. That makes these tests I/O-bound.
"""

import hashlib
import time
from decimal import Decimal

from django.conf import settings


class ServiceError(Exception):
    pass


class ServiceTimeout(ServiceError):
    pass


class _Client:
    def __init__(self, latency=None):
        self.latency = settings.INTEGRATIONS_LATENCY if latency is None else latency
        self.calls = 0

    def _round_trip(self):
        self.calls += 1
        time.sleep(self.latency)


class PaymentGateway(_Client):
    DECLINED_SUFFIX = "0002"
    TIMEOUT_SUFFIX = "0408"

    def charge(self, amount, card_number, currency="EUR"):
        self._round_trip()
        amount = Decimal(amount)
        if amount <= 0:
            raise ServiceError("amount must be positive")
        if card_number.endswith(self.TIMEOUT_SUFFIX):
            raise ServiceTimeout("payment gateway timed out")
        approved = not card_number.endswith(self.DECLINED_SUFFIX)
        token = hashlib.sha256(f"{card_number}:{amount}:{currency}".encode()).hexdigest()[:16]
        return {"approved": approved, "amount": str(amount), "currency": currency, "id": token}

    def refund(self, charge_id, amount):
        self._round_trip()
        if not charge_id:
            raise ServiceError("charge id required")
        return {"refunded": str(Decimal(amount)), "charge": charge_id}


class ShippingQuoteClient(_Client):
    BASE = {"DE": Decimal("3.90"), "FR": Decimal("4.50"), "GB": Decimal("6.00")}

    def quote(self, country, weight_grams):
        self._round_trip()
        if weight_grams <= 0:
            raise ServiceError("weight must be positive")
        base = self.BASE.get(country.upper())
        if base is None:
            raise ServiceError(f"no carrier for {country}")
        surcharge = Decimal(max(0, weight_grams - 1000) // 500) * Decimal("1.25")
        return base + surcharge


class IsbnLookupClient(_Client):
    RECORDS = {
        "9780141439518": {"title": "Pride and Prejudice", "author": "Jane Austen"},
        "9780553380163": {"title": "A Brief History of Time", "author": "Stephen Hawking"},
        "9780140449136": {"title": "The Histories", "author": "Herodotus"},
    }

    def lookup(self, isbn):
        self._round_trip()
        return self.RECORDS.get(isbn)

    def lookup_many(self, isbns):
        return {isbn: self.lookup(isbn) for isbn in isbns}


class WebhookNotifier(_Client):
    def __init__(self, latency=None):
        super().__init__(latency)
        self.delivered = []

    def send(self, event, payload):
        self._round_trip()
        if not event:
            raise ServiceError("event name required")
        self.delivered.append((event, dict(payload)))
        return len(self.delivered)
