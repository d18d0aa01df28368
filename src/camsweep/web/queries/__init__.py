"""Read-side queries behind the pages and the API, every one scoped to a principal.

Scoping is done in SQL (a join to `sites` on the principal's department), never by filtering
rows in Python afterwards, so totals, pages and searches can never count what the caller
may not see.
"""
