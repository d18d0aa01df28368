"""Read, check and index the knowledge base once.

Every reference (maker slug, brand id, registrant rule) is resolved here, so a wrong
slug fails at load with the file and field named, never later inside a verdict.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from camsweep.errors import KnowledgeBaseError
from camsweep.kb.model import (
    CompiledFingerprint,
    CompiledModelRule,
    KnowledgeBase,
    MakerInfo,
    OuiEntry,
)
from camsweep.kb.normalise import fold, has_cjk, squash
from camsweep.kb.oui import GENERATED_NAME, parse_table
from camsweep.kb.schema import (
    Brand,
    BrandMaker,
    BrandsFile,
    FingerprintFile,
    Manifest,
    Manufacturer,
    ManufacturersFile,
    ModelsFile,
    OuiAdditionsFile,
    OuiRegistrantsFile,
    PortsFile,
)

M = TypeVar("M", bound=BaseModel)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MODEL_GROUPS = frozenset({"series", "kind"})
MIN_FUZZY_LEN = 5


def data_dir() -> Path:
    return Path(str(resources.files("camsweep.kb") / "data"))


def read_yaml(path: Path, model: type[M]) -> M:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{path.name}: cannot read YAML ({exc})") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise KnowledgeBaseError(
            f"{path.name}: field '{where}': {first['msg']} ({exc.error_count()} error(s))"
        ) from exc


def _compile(pattern: str, where: str, *, wrap: bool = False) -> re.Pattern[str]:
    source = f"(?<![A-Z0-9])(?:{pattern})(?![A-Z0-9])" if wrap else pattern
    try:
        return re.compile(source)
    except re.error as exc:
        raise KnowledgeBaseError(f"{where}: invalid pattern ({exc})") from exc


def _hash_files(root: Path) -> tuple[str, dict[str, str]]:
    digest = hashlib.sha256()
    files: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".yaml", ".tsv"}):
        rel = path.relative_to(root).as_posix()
        data = path.read_bytes()
        digest.update(rel.encode() + b"\0" + data + b"\0")
        files[rel] = hashlib.sha256(data).hexdigest()[:12]
    return digest.hexdigest()[:12], files


def _check_slugs(known: set[str], refs: Iterable[tuple[str, str]], file: str) -> None:
    for where, slug in refs:
        if slug not in known:
            raise KnowledgeBaseError(f"{file}: field '{where}': unknown slug '{slug}'")


def _nil(
    slug: str, companies: dict[str, Manufacturer], seen: frozenset[str] = frozenset()
) -> tuple[bool, str]:
    """Subject to the PRC NIL: PRC-headquartered, or controlled by a PRC company."""
    company = companies[slug]
    if company.jurisdiction == "CN":
        return True, f"{company.name} is headquartered in CN"
    for control in company.controlled_by:
        if control.relation == "state_shareholder" or control.entity in seen:
            continue
        subject, reason = _nil(control.entity, companies, seen | {slug})
        if subject:
            return True, f"controlled by {companies[control.entity].name}: {reason}"
    return False, f"{company.name} is headquartered in {company.jurisdiction}"


def _implicit_brand(company: Manufacturer) -> Brand:
    aliases = [
        company.name,
        company.slug.replace("-", " "),
        *company.legal_names,
        *company.native_names,
    ]
    return Brand(
        id=company.slug,
        name=company.name,
        owner=company.slug,
        aliases=aliases,
        makers=[
            BrandMaker(
                maker=company.slug,
                relation="own_brand",
                share=1.0,
                evidence="Company's own name (implicit brand from manufacturers.yaml)",
                source=company.jurisdiction_source,
            )
        ],
    )


def _index_aliases(brands: dict[str, Brand]) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    index: dict[str, str] = {}
    cjk: list[tuple[str, str]] = []
    for brand in brands.values():
        for alias in [brand.name, *brand.aliases]:
            if has_cjk(alias):
                cjk.append((alias, brand.id))
                continue
            key = squash(alias)
            if not key:
                continue
            other = index.get(key)
            if other is not None and other != brand.id:
                raise KnowledgeBaseError(
                    f"brands.yaml: field '{brand.id}.aliases': '{alias}' also names brand '{other}'"
                )
            index[key] = brand.id
    cjk.sort(key=lambda item: -len(item[0]))
    return index, tuple(cjk)


def _load_fingerprints(root: Path, makers: set[str]) -> dict[str, tuple[CompiledFingerprint, ...]]:
    out: dict[str, tuple[CompiledFingerprint, ...]] = {}
    for path in sorted((root / "fingerprints").glob("*.yaml")):
        spec = read_yaml(path, FingerprintFile)
        name = f"fingerprints/{path.name}"
        descriptions: set[str] = set()
        compiled = []
        for i, rule in enumerate(spec.rules):
            where = f"{name}: field 'rules.{i}' ({rule.id})"
            if rule.maker not in makers:
                raise KnowledgeBaseError(f"{where}.maker: unknown slug '{rule.maker}'")
            if rule.description in descriptions:
                raise KnowledgeBaseError(f"{where}.description: duplicate description")
            descriptions.add(rule.description)
            regex = _compile(rule.pattern, f"{where}.pattern")
            if set(regex.groupindex) != set(rule.extracts):
                raise KnowledgeBaseError(
                    f"{where}.extracts: named groups {sorted(regex.groupindex)} "
                    f"differ from extracts {sorted(rule.extracts)}"
                )
            compiled.append(CompiledFingerprint(field=spec.field, rule=rule, regex=regex))
        if spec.field in out:
            raise KnowledgeBaseError(f"{name}: field 'field': '{spec.field}' defined twice")
        out[spec.field] = tuple(compiled)
    return out


_QUANTIFIERS = frozenset("?*{+")
_META = frozenset("\\[](){}?*+|^$.")


def _group_end(pattern: str, start: int) -> int:
    depth = 0
    escaped = False
    for i in range(start, len(pattern)):
        char = pattern[i]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
    return len(pattern)


_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789- ")


def leading_literals(pattern: str) -> tuple[str, ...]:
    """Texts of which every match contains at least one; () when none can be told.

    Lets the matcher skip a regex with a substring test: a pattern that starts with
    `DS-` cannot match a string without "DS-".
    """
    depth = 0
    escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            return ()
    if pattern.startswith("(?"):
        close = _group_end(pattern, 0)
        optional = close + 1 < len(pattern) and pattern[close + 1] in "?*"
        if optional:
            return leading_literals(pattern[close + 2 :])
        body = (
            pattern[pattern.index(">") + 1 : close]
            if pattern.startswith("(?P<")
            else pattern[3:close]
        )
        options = body.split("|")
        if all(o and set(o) <= _PLAIN for o in options):
            return tuple(options)
        return ()
    out = []
    for i, char in enumerate(pattern):
        if char in _META:
            break
        if i + 1 < len(pattern) and pattern[i + 1] in _QUANTIFIERS:
            break
        out.append(char)
    return ("".join(out),) if out else ()


def _load_models(root: Path, makers: set[str], brands: set[str]) -> tuple[CompiledModelRule, ...]:
    spec = read_yaml(root / "models.yaml", ModelsFile)
    seen: set[str] = set()
    rules = []
    for i, rule in enumerate(spec.rules):
        where = f"models.yaml: field 'rules.{i}' ({rule.id})"
        if rule.id in seen:
            raise KnowledgeBaseError(f"{where}.id: duplicate rule id")
        seen.add(rule.id)
        if rule.maker not in makers:
            raise KnowledgeBaseError(f"{where}.maker: unknown slug '{rule.maker}'")
        for ref in [rule.brand, *rule.requires_brand]:
            if ref is not None and ref not in brands:
                raise KnowledgeBaseError(f"{where}.brand: unknown brand '{ref}'")
        regex = _compile(rule.pattern, f"{where}.pattern", wrap=True)
        groups = set(regex.groupindex)
        if not groups <= MODEL_GROUPS:
            raise KnowledgeBaseError(
                f"{where}.pattern: only groups {sorted(MODEL_GROUPS)} are allowed"
            )
        if rule.device_types and "kind" not in groups:
            raise KnowledgeBaseError(f"{where}.device_types: needs a (?P<kind>...) group")
        rules.append(
            CompiledModelRule(rule=rule, regex=regex, literals=leading_literals(rule.pattern))
        )
    return tuple(rules)


def _load_oui(root: Path, brands: set[str]) -> tuple[dict[str, OuiEntry], int]:
    path = root / GENERATED_NAME
    try:
        rows = parse_table(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KnowledgeBaseError(
            f"{GENERATED_NAME}: unreadable ({exc}); run `camsweep kb build-oui`"
        ) from exc
    table = {r.prefix: r for r in rows}
    for entry in table.values():
        if entry.brand and entry.brand not in brands:
            raise KnowledgeBaseError(
                f"{GENERATED_NAME}: field 'brand' of {entry.prefix}: unknown brand"
            )
    additions = read_yaml(root / "oui_additions.yaml", OuiAdditionsFile)
    for i, add in enumerate(additions.additions):
        if add.brand is not None and add.brand not in brands:
            raise KnowledgeBaseError(
                f"oui_additions.yaml: field 'additions.{i}.brand': unknown brand '{add.brand}'"
            )
        table[add.prefix] = OuiEntry(
            add.prefix, add.country, add.brand or "", False, "", add.registrant
        )
    return table, len(additions.additions)


def load_from(root: Path) -> KnowledgeBase:
    """Load and check the KB under `root` (the packaged `kb/data` unless testing)."""
    manifest = read_yaml(root / "manifest.yaml", Manifest)
    companies_file = read_yaml(root / "manufacturers.yaml", ManufacturersFile)
    companies: dict[str, Manufacturer] = {}
    for i, company in enumerate(companies_file.manufacturers):
        if company.slug in companies:
            raise KnowledgeBaseError(
                f"manufacturers.yaml: field 'manufacturers.{i}.slug': duplicate '{company.slug}'"
            )
        companies[company.slug] = company
    known = set(companies)
    _check_slugs(
        known,
        (
            (f"{c.slug}.controlled_by.entity", ctl.entity)
            for c in companies.values()
            for ctl in c.controlled_by
        ),
        "manufacturers.yaml",
    )
    makers = {
        slug: MakerInfo(slug, c.name, c.jurisdiction, False, *_nil(slug, companies))
        for slug, c in companies.items()
    }

    brands_file = read_yaml(root / "brands.yaml", BrandsFile)
    brands: dict[str, Brand] = {}
    for i, brand in enumerate(brands_file.brands):
        if brand.id in brands:
            raise KnowledgeBaseError(f"brands.yaml: field 'brands.{i}.id': duplicate '{brand.id}'")
        brands[brand.id] = brand
    _check_slugs(
        known,
        (
            *((f"{b.id}.makers.maker", m.maker) for b in brands.values() for m in b.makers),
            *((f"{b.id}.owner", b.owner) for b in brands.values() if b.owner),
        ),
        "brands.yaml",
    )
    for company in companies.values():
        if company.kind != "parent" and company.slug not in brands:
            brands[company.slug] = _implicit_brand(company)
    alias_index, cjk_aliases = _index_aliases(brands)

    registrants = read_yaml(root / "oui_registrants.yaml", OuiRegistrantsFile)
    for i, reg in enumerate(registrants.registrants):
        if reg.brand not in brands:
            raise KnowledgeBaseError(
                f"oui_registrants.yaml: field 'registrants.{i}.brand': unknown brand '{reg.brand}'"
            )

    model_rules = _load_models(root, known, set(brands))
    fingerprints = _load_fingerprints(root, known)
    ports = read_yaml(root / "ports.yaml", PortsFile)
    for i, port_rule in enumerate(ports.rules):
        if port_rule.maker not in known:
            raise KnowledgeBaseError(
                f"ports.yaml: field 'rules.{i}.maker': unknown slug '{port_rule.maker}'"
            )
    oui, n_additions = _load_oui(root, set(brands))

    counts = {
        "manufacturers": len(companies),
        "brands": len(brands_file.brands),
        "models": len(model_rules),
        "oui": len(oui) - n_additions,
        "oui_additions": n_additions,
        "fingerprints": sum(len(v) for v in fingerprints.values()),
    }
    for name, dataset in manifest.datasets.items():
        count = counts.get(name)
        if count is None:
            raise KnowledgeBaseError(f"manifest.yaml: field 'datasets.{name}': unknown dataset")
        if count < dataset.min_count:
            raise KnowledgeBaseError(
                f"manifest.yaml: field 'datasets.{name}.min_count': {dataset.file} has {count} "
                f"entries, fewer than {dataset.min_count}; it shrank, check the source"
            )

    split = frozenset(p[:6] for p in oui if len(p) > 6)
    registrant_keys: dict[str, OuiEntry] = {}
    for entry in oui.values():
        if entry.key and not entry.brand and not entry.module:
            registrant_keys.setdefault(entry.key, entry)

    lookalikes = [*brands_file.lookalikes, *(w for b in brands.values() for w in b.lookalikes)]
    phrases = tuple(
        sorted({fold(w) for w in lookalikes if " " in fold(w) or has_cjk(w)}, key=len, reverse=True)
    )
    words = frozenset(squash(w) for w in lookalikes if " " not in fold(w) and not has_cjk(w))
    fuzzy: dict[str, tuple[str, ...]] = {}
    for key in sorted(k for k in alias_index if len(k) >= MIN_FUZZY_LEN and k.isalpha()):
        fuzzy[key[0]] = (*fuzzy.get(key[0], ()), key)

    digest, files = _hash_files(root)
    return KnowledgeBase(
        version=f"{manifest.version}+{digest}",
        manufacturers=companies,
        makers=makers,
        brands=brands,
        model_rules=model_rules,
        model_literals=frozenset(lit for r in model_rules for lit in r.literals),
        rules_by_literal={
            lit: tuple(i for i, r in enumerate(model_rules) if lit in r.literals)
            for lit in {lit for r in model_rules for lit in r.literals}
        },
        unfiltered_rules=tuple(i for i, r in enumerate(model_rules) if not r.literals),
        fingerprints=fingerprints,
        port_rules=tuple(ports.rules),
        oui=oui,
        oui_split=split,
        registrant_keys=registrant_keys,
        alias_index=alias_index,
        alias_prefixes=frozenset(k[:n] for k in alias_index for n in range(1, len(k) + 1)),
        cjk_aliases=cjk_aliases,
        fuzzy_aliases=fuzzy,
        lookalike_phrases=phrases,
        lookalike_words=words,
        common_words=frozenset(squash(w) for w in brands_file.common_words),
        files=files,
    )


@lru_cache(maxsize=4)
def load_kb(path: str | None = None) -> KnowledgeBase:
    """The knowledge base, loaded once per process (pass a folder to load another copy)."""
    return load_from(Path(path) if path else data_dir())
