"""Tracking: work orders, lifecycle and the hash-chained audit log (`camsweep.track.audit`)."""
