"""The Office Server: needs the ``server`` extra (``pip install sogenactif[server]``)."""
