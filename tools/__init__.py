"""The secret-tool catalogue, grants, offers and effects (SPEC §5). Not built yet: it arrives
with the secret-tools issue; nothing imports it so far."""
