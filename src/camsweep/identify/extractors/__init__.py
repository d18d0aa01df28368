"""One extractor per evidence signal; each turns its field into texts or findings.

Order does not matter: label, model-grammar and firmware matching run afterwards over
everything the extractors gathered (see `camsweep.identify.engine`).
"""

from __future__ import annotations

from collections.abc import Callable

from camsweep.domain import Evidence
from camsweep.identify.extractors import (
    banner,
    brand,
    calls_home,
    dahua_info,
    firmware,
    http,
    isapi,
    mac,
    model,
    onvif,
    ports,
    rtsp,
    snmp,
    text,
    tls,
    upnp,
)
from camsweep.identify.findings import Observations

Extractor = Callable[[Evidence, Observations], None]

EXTRACTORS: tuple[Extractor, ...] = (
    brand.extract,
    model.extract,
    text.extract,
    firmware.extract,
    mac.extract,
    http.extract,
    rtsp.extract,
    onvif.extract,
    upnp.extract,
    snmp.extract,
    tls.extract,
    ports.extract,
    banner.extract,
    calls_home.extract,
    isapi.extract,
    dahua_info.extract,
)
