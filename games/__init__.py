"""Pure, seeded rules engines, one subpackage per game (see games/base.py for the interface)."""
