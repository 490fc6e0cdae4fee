"""Players: the async interface, scripted bots and their personas."""
