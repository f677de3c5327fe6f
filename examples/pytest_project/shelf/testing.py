"""How often each fixture was set up in this process (the example's tests check scopes with it)."""

SETUPS: dict[str, int] = {}


def count_setup(name):
    SETUPS[name] = SETUPS.get(name, 0) + 1
    return SETUPS[name]
