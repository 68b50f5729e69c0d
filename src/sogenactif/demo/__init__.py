"""A demo merchant shop that uses only the connector (``sogenactif.client``): the example
integrators copy. Run it with ``sogenactif demo-shop --server URL``."""
