"""Policies as code: cited, versioned rule sets, and the pure evaluator that applies them.

    from camsweep.kb import load_kb
    from camsweep.policy import DeviceFacts, evaluate, load_vulnerabilities, prepare
    from camsweep.policy import merge_params, resolve_policies
    policies = resolve_policies(["uk-wms-2022"])
    ctx = prepare(policies, load_kb(), load_vulnerabilities(), date(2025, 1, 1),
                  merge_params(policies, {"organisation_type": "central_government"}))
    evaluate(DeviceFacts(manufacturer_id="hikvision", confidence=0.9, sensitivity="sensitive"), ctx)

The bundled policies live in `policies/` (one YAML file each, with examples that are run
as tests); `policies/vulnerabilities.yaml` is the cited known-exploited-vulnerability list.
Store-facing work (loading devices, saving findings, diffs, roll-ups) is in `camsweep.assess`.
"""

from __future__ import annotations

from camsweep.policy.batch import FRAME_SCHEMA, BatchResult, evaluate_frame, frame_of
from camsweep.policy.bom import load_bom, model_key
from camsweep.policy.engine import (
    AssessContext,
    DeviceAssessment,
    Finding,
    FindingTemplate,
    evaluate,
    prepare,
)
from camsweep.policy.facts import ComponentFact, DeviceFacts, ProductBom
from camsweep.policy.loader import (
    BUILTIN_PARAMS,
    LoadedPolicy,
    LoadedProgramme,
    bundled_policies,
    default_policy_ids,
    load_policy_file,
    load_programme,
    load_vulnerabilities,
    merge_params,
    parse_param_args,
    resolve_policies,
)
from camsweep.policy.selftest import ExampleResult, run_examples

__all__ = [
    "BUILTIN_PARAMS",
    "FRAME_SCHEMA",
    "AssessContext",
    "BatchResult",
    "ComponentFact",
    "DeviceAssessment",
    "DeviceFacts",
    "ExampleResult",
    "Finding",
    "FindingTemplate",
    "LoadedPolicy",
    "LoadedProgramme",
    "ProductBom",
    "bundled_policies",
    "default_policy_ids",
    "evaluate",
    "evaluate_frame",
    "frame_of",
    "load_bom",
    "load_policy_file",
    "load_programme",
    "load_vulnerabilities",
    "merge_params",
    "model_key",
    "parse_param_args",
    "prepare",
    "resolve_policies",
    "run_examples",
]
