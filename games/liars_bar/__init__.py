"""Liar's Bar: the card-and-revolver bluffing game (presets `classic`, `paper`)."""
