"""Emulated surveillance devices for tests, demos and benchmarks (never real traffic).

Shipped inside the package (not under tests/) so that `camsweep testbed up --hosts N` works
from an installed camsweep. Profiles: `profiles.yaml`, each field with its public source.
"""

from camsweep.testbed.bed import DEFAULT_BASE, TESTBED_CREDENTIALS, Testbed, addresses
from camsweep.testbed.profiles import HostSpec, Profile, all_profiles, host_spec, profile

__all__ = ["DEFAULT_BASE", "TESTBED_CREDENTIALS", "HostSpec", "Profile", "Testbed", "addresses",
           "all_profiles", "host_spec", "profile"]
