"""Gateway protocol logic: plain Python, no Django, I/O only through an injected client."""
