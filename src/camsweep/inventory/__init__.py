"""Register and site-list import (see importer.py)."""
