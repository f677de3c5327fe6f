"""CPU-bound report helpers, written in plain Python on purpose."""

import math
import random
from collections import Counter
from decimal import Decimal


def primes_up_to(limit):
    """Sieve of Eratosthenes: every prime <= limit."""
    if limit < 2:
        return []
    sieve = bytearray([1]) * (limit + 1)
    sieve[0] = sieve[1] = 0
    for n in range(2, math.isqrt(limit) + 1):
        if sieve[n]:
            for multiple in range(n * n, limit + 1, n):
                sieve[multiple] = 0
    return [n for n, is_prime in enumerate(sieve) if is_prime]


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    return all(n % d for d in range(3, math.isqrt(n) + 1, 2))


def synthetic_sales(count, seed=2024):
    """Deterministic fake sales rows: (isbn, quantity, unit_price_cents)."""
    rng = random.Random(seed)
    isbns = [f"978{rng.randrange(10**9, 10**10)}" for _ in range(200)]
    return [(rng.choice(isbns), rng.randint(1, 5), rng.randint(499, 4999)) for _ in range(count)]


def merge_sort(items, key=lambda item: item):
    """A stable, pure-Python merge sort (slow on purpose: it is the CPU-bound workload)."""
    if len(items) <= 1:
        return list(items)
    middle = len(items) // 2
    left, right = merge_sort(items[:middle], key), merge_sort(items[middle:], key)
    merged, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        if key(right[j]) < key(left[i]):
            merged.append(right[j])
            j += 1
        else:
            merged.append(left[i])
            i += 1
    merged.extend(left[i:])
    merged.extend(right[j:])
    return merged


def revenue_by_isbn(rows):
    totals = Counter()
    for isbn, quantity, cents in rows:
        totals[isbn] += quantity * cents
    return totals


def top_sellers(rows, n=10):
    totals = revenue_by_isbn(rows)
    ranked = merge_sort(list(totals.items()), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:n]


def moving_average(values, window):
    if window < 1:
        raise ValueError("window must be at least 1")
    result, running = [], 0
    for index, value in enumerate(values):
        running += value
        if index >= window:
            running -= values[index - window]
        if index >= window - 1:
            result.append(running / window)
    return result


def percentile(values, pct):
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def longest_collatz_start(limit):
    """The start below ``limit`` with the longest Collatz chain (memoised)."""
    lengths = {1: 1}
    best, best_length = 1, 1
    for start in range(2, limit):
        n, path = start, []
        while n not in lengths:
            path.append(n)
            n = n // 2 if n % 2 == 0 else 3 * n + 1
        length = lengths[n]
        for value in reversed(path):
            length += 1
            lengths[value] = length
        if length > best_length:
            best, best_length = start, length
    return best, best_length


def levenshtein(a, b):
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cents_to_decimal(cents):
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))
