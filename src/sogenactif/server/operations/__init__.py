"""One module per service family; every service runs the same pipeline (pipeline.py)."""
