"""The Office JSON protocol: pure code, no I/O, shared by the server and the connector."""
