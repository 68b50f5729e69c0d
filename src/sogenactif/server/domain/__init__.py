"""The decisions of the platform, free of HTTP and SQL."""
