"""Identify the true maker of a device from whatever evidence exists (pure: KB passed in).

from camsweep.kb import load_kb
from camsweep.identify import identify
verdict = identify(Evidence(brand="Lorex", model="LNB8005"), load_kb())
"""

from __future__ import annotations

from camsweep.identify.engine import findings_for, identify, identify_many
from camsweep.identify.fusion import FUSION, FusionModel, candidate_scores

__all__ = ["FUSION", "FusionModel", "candidate_scores", "findings_for", "identify", "identify_many"]
