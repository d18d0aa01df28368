"""Hardware bills of materials: CycloneDX 1.5/1.6 JSON in, component facts out.

The BOM's `metadata.component` is the product (a camera model); its parts are the
top-level `components` (depth 1), their nested `components` (depth 2, ...) and anything
reached through `dependencies`, at the shortest distance from the product. A part's
maker is resolved through the knowledge base from its manufacturer or supplier name;
its country comes from the BOM's address, else from the KB's jurisdiction for the maker.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from pathlib import Path
from typing import Any

from camsweep.errors import PolicyError
from camsweep.kb import KnowledgeBase
from camsweep.kb.normalise import squash
from camsweep.policy.facts import ComponentFact, ProductBom

SUPPORTED = ("1.5", "1.6")


def model_key(model: str | None) -> str | None:
    """How a device model is matched to a BOM's product name: case and spacing folded."""
    if not model:
        return None
    return "".join(model.upper().split())


def _resolve_maker(kb: KnowledgeBase, *names: str | None) -> str | None:
    for name in names:
        if not name:
            continue
        key = squash(name)
        if key in kb.manufacturers:
            return key
        brand_id = kb.alias_index.get(key)
        if brand_id is None:
            continue
        brand = kb.brands[brand_id]
        if brand.owner:
            return brand.owner
        if len(brand.makers) == 1:
            return brand.makers[0].maker
    return None


def _entity(obj: Any) -> tuple[str | None, str | None]:
    if obj is None:
        return None, None
    address = getattr(obj, "address", None)
    country = getattr(address, "country", None) if address is not None else None
    return getattr(obj, "name", None), country


def load_bom(path: Path, kb: KnowledgeBase) -> ProductBom:
    """Read one CycloneDX JSON BOM with cyclonedx-python-lib; errors name the file."""
    from cyclonedx.model.bom import Bom

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the BOM as JSON ({exc})") from exc
    if not isinstance(raw, dict) or raw.get("bomFormat") != "CycloneDX":
        raise PolicyError(f"{path}: not a CycloneDX BOM (bomFormat must be 'CycloneDX')")
    spec = str(raw.get("specVersion", ""))
    if spec not in SUPPORTED:
        raise PolicyError(f"{path}: CycloneDX specVersion {spec or '(missing)'} is not "
                          f"supported; use {' or '.join(SUPPORTED)}")
    try:
        bom = Bom.from_json(raw)  # type: ignore[attr-defined]
    except Exception as exc:  # the library raises a variety of types for malformed input
        raise PolicyError(f"{path}: not a valid CycloneDX {spec} BOM ({exc})") from exc
    product = bom.metadata.component if bom.metadata else None
    if product is None:
        raise PolicyError(f"{path}: metadata.component is missing; it must name the product "
                          "(the device model) the BOM describes")
    return _facts(bom, product, path, kb, hashlib.sha256(path.read_bytes()).hexdigest()[:12])


def _facts(bom: Any, product: Any, path: Path, kb: KnowledgeBase, digest: str) -> ProductBom:
    nodes: dict[str, Any] = {}
    parent_of: dict[str, str | None] = {}
    edges: dict[str, list[str]] = {}
    root = str(product.bom_ref.value or "product")
    nodes[root] = product

    def walk(component: Any, parent: str) -> None:
        ref = str(component.bom_ref.value or f"{parent}/{component.name}")
        nodes.setdefault(ref, component)
        edges.setdefault(parent, []).append(ref)
        for child in component.components:
            walk(child, ref)

    for child in product.components:
        walk(child, root)
    for component in bom.components:
        walk(component, root)
    for dep in bom.dependencies:
        src = str(dep.ref.value)
        for target in dep.dependencies:
            edges.setdefault(src, []).append(str(target.ref.value))
    depth = {root: 0}
    parent_of[root] = None
    queue = deque([root])
    while queue:
        ref = queue.popleft()
        for nxt in edges.get(ref, []):
            if nxt not in depth and nxt in nodes:
                depth[nxt] = depth[ref] + 1
                parent_of[nxt] = ref
                queue.append(nxt)
    facts: list[ComponentFact] = []
    for ref, d in sorted(depth.items(), key=lambda item: (item[1], item[0])):
        if ref == root:
            continue
        comp = nodes[ref]
        man_name, man_country = _entity(comp.manufacturer)
        sup_name, sup_country = _entity(comp.supplier)
        maker = _resolve_maker(kb, man_name, sup_name)
        info = kb.maker(maker) if maker else None
        country = man_country or sup_country or (info.jurisdiction if info else None)
        trail = []
        cur: str | None = ref
        while cur is not None:
            trail.append(str(nodes[cur].name))
            cur = parent_of.get(cur)
        facts.append(ComponentFact(
            name=str(comp.name), supplier=man_name or sup_name, maker=maker,
            country=country.upper() if country else None, depth=d,
            path=" > ".join(reversed(trail)),
        ))
    man, _ = _entity(product.manufacturer)
    return ProductBom(key=model_key(str(product.name)) or digest, product=str(product.name),
                      manufacturer=man, source=f"{path.name} ({digest})",
                      components=tuple(facts))
