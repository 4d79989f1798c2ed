"""A simulator of the HWA REST API V2 subset resync-tui uses: demo default and test double."""
