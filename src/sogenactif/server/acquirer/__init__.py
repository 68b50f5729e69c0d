"""The simulated acquirer: test cards with scripted outcomes, kept as data."""
