"""Bulk identification on a LocalCluster gives the single-process output, line for line."""

from __future__ import annotations

import io
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from distributed import Client
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import InputError
from camsweep.identify.batch import run_jsonl
from camsweep.identify.bulk import identify_frame
from camsweep.kb import KnowledgeBase, load_kb
from camsweep.sample import write_sample
from camsweep.scale.bulk import MAX_BLOCK, block_size, identify_jsonl, identify_register, row_bytes
from camsweep.scale.chunks import csv_partitions
from camsweep.scale.cluster import open_client
from camsweep.scale.dask_api import Fut
from camsweep.scale.tasks import kb_receipts
from camsweep.scale.window import ordered_results

ROWS = 200_000
BLOCK = 4 << 20  # five partitions of the 200,000-row register

runner = CliRunner()


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with open_client(None, workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("estate")
    return write_sample(folder, 400, ROWS, 11).assets_csv


@pytest.fixture(scope="module")
def local_csv(register: Path, kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory,
              ) -> Path:
    out = tmp_path_factory.mktemp("local") / "local.csv"
    identify_frame(pl.read_csv(register, infer_schema=False), kb).write_csv(out)
    return out


def test_register_matches_single_process_line_for_line(
        client: Client, kb: KnowledgeBase, register: Path, local_csv: Path,
        tmp_path: Path) -> None:
    out = tmp_path / "dask.csv"
    run = identify_register(client, kb, register, renames={}, out=out, shared=True,
                            block=BLOCK)
    assert run.rows == ROWS and run.partitions >= 4 and run.workers == 2
    assert out.read_bytes() == local_csv.read_bytes()
    assert run.restricted == pl.read_csv(local_csv, infer_schema=False).filter(
        pl.col("restricted") == "true").height
    assert not list(tmp_path.glob(".camsweep-parts-*"))  # part files cleaned up


def test_scattered_partitions_give_the_same_bytes(
        client: Client, kb: KnowledgeBase, register: Path, tmp_path: Path) -> None:
    """A remote cluster shares no files: partitions and results travel through Dask."""
    small = tmp_path / "small.csv"
    small.write_bytes(b"".join(register.read_bytes().splitlines(keepends=True)[:20_001]))
    local = tmp_path / "local.csv"
    identify_frame(pl.read_csv(small, infer_schema=False), kb).write_csv(local)
    out = tmp_path / "dask.csv"
    run = identify_register(client, kb, small, renames={}, out=out, shared=False,
                            block=256 << 10)
    assert run.partitions >= 4
    assert out.read_bytes() == local.read_bytes()


def test_parquet_in_parquet_out_and_partitioned(
        client: Client, kb: KnowledgeBase, register: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(register, infer_schema=False, n_rows=30_000)
    source = tmp_path / "register.parquet"
    frame.write_parquet(source)
    expected = identify_frame(pl.read_parquet(source), kb)

    single = tmp_path / "out.parquet"
    identify_register(client, kb, source, renames={}, out=single, shared=True, rows=7_000)
    assert pl.read_parquet(single).equals(expected, null_equal=True)

    parts = tmp_path / "parts"
    run = identify_register(client, kb, source, renames={}, parquet_dir=parts, shared=True,
                            rows=7_000)
    files = sorted(parts.glob("part-*.parquet"))
    assert len(files) == run.partitions == 5
    assert pl.concat([pl.read_parquet(f) for f in files]).equals(expected, null_equal=True)
    with pytest.raises(InputError, match="already holds"):
        identify_register(client, kb, source, renames={}, parquet_dir=parts, shared=True)


def _jsonl(register: Path, rows: int) -> bytes:
    frame = pl.read_csv(register, infer_schema=False, n_rows=rows)
    lines = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        evidence = {k: row[k] for k in ("brand", "model", "mac", "firmware") if row[k]}
        lines.append(json.dumps({"id": row["asset_id"], "evidence": evidence}))
        if i % 997 == 0:
            lines.append('{"id": "broken", "evidence": {"open_ports": "eighty"}}')
        if i % 1499 == 0:
            lines.extend(["", "not json", "[1, 2]"])
    rng = random.Random(5)
    return "".join(line + rng.choice(["\n", "\r\n"]) for line in lines).encode("utf-8")


def test_jsonl_matches_single_process_with_errors_numbered_by_input_line(
        client: Client, kb: KnowledgeBase, register: Path, tmp_path: Path) -> None:
    data = _jsonl(register, 6_000)
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    expected = "".join(line + "\n" for line in run_jsonl(
        io.StringIO(data.decode("utf-8"), newline=None), kb)).encode("utf-8")
    for shared in (True, False):
        out = tmp_path / f"out-{shared}.jsonl"
        with source.open("rb") as reader, out.open("wb") as writer:
            run = identify_jsonl(client, kb, reader, writer, shared=shared, block=64 << 10)
        assert run.partitions >= 10
        assert out.read_bytes() == expected
    errors = [json.loads(line) for line in expected.decode().splitlines() if '"error"' in line]
    assert len(errors) > 10 and errors[-1]["error"].startswith("line ")
    assert int(errors[-1]["error"].split()[1].rstrip(":")) > 6_000


def test_jsonl_that_is_not_utf8_names_file_and_line(
        client: Client, kb: KnowledgeBase, tmp_path: Path) -> None:
    source = tmp_path / "latin1.jsonl"
    good = json.dumps({"id": "1", "evidence": {"brand": "Axis"}}) + "\n"
    source.write_bytes((good * 3000).encode() + b'{"id": "2", "evidence": {"brand": "D\xe9"}}\n')
    with source.open("rb") as reader, pytest.raises(InputError, match=r"latin1\.jsonl, line "
                                                    r"3001: not UTF-8"):
        identify_jsonl(client, kb, reader, io.BytesIO(), name=str(source), block=16 << 10)


def test_knowledge_base_reaches_each_worker_once_per_run(
        client: Client, kb: KnowledgeBase, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": str(i), "evidence": {"brand": "Hikvision"}})
                              + "\n" for i in range(4000)))
    before = client.run(kb_receipts)
    with source.open("rb") as reader:
        run = identify_jsonl(client, kb, reader, io.BytesIO(), block=8 << 10)
    after = client.run(kb_receipts)
    assert run.partitions >= 10
    assert {w: len(after[w]) - len(before[w]) for w in after} == dict.fromkeys(after, 1)


def test_window_bounds_what_is_outstanding_and_keeps_order(client: Client) -> None:
    lock = threading.Lock()
    state = {"submitted": 0, "yielded": 0, "most": 0}
    delays = [random.Random(3).uniform(0, 0.05) for _ in range(40)]

    def thunks() -> Iterator[Callable[[], Fut]]:
        for i, delay in enumerate(delays):
            def start(i: int = i, delay: float = delay) -> Fut:
                with lock:
                    state["submitted"] += 1
                    state["most"] = max(state["most"], state["submitted"] - state["yielded"])
                return client.submit(_sleep_and_return, i, delay, pure=False)
            yield start

    got = []
    for value in ordered_results(thunks(), 5):
        got.append(value)
        state["yielded"] += 1
    assert got == list(range(40))
    assert state["most"] <= 5


def _sleep_and_return(value: int, delay: float) -> int:
    time.sleep(delay)
    return value


def test_cli_engine_dask_equals_engine_local(register: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    lines = register.read_bytes().splitlines(keepends=True)[:3001]
    small.write_bytes(lines[0].replace(b"brand", b"Make") + b"".join(lines[1:]))
    outs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.csv"
        result = runner.invoke(app, ["identify", "--csv", str(small), "--out", str(out),
                                     "--engine", engine])
        assert result.exit_code == 0, result.output
        outs[engine] = out.read_bytes()
    assert outs["dask"] == outs["local"]
    assert outs["dask"].startswith(b"asset_id,site_id,device_type,Make,")
    parts = {}
    for engine in ("local", "dask"):
        folder = tmp_path / f"{engine}-parts"
        result = runner.invoke(app, ["identify", "--csv", str(small), "--parquet-out",
                                     str(folder), "--engine", engine])
        assert result.exit_code == 0, result.output
        parts[engine] = pl.concat([pl.read_parquet(f) for f in sorted(folder.glob("*.parquet"))])
    assert parts["dask"].equals(parts["local"], null_equal=True)


def test_cli_reports_an_unreachable_scheduler_without_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("camsweep.scale.cluster.CONNECT_TIMEOUT", 2.0)
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "evidence": {"brand": "Axis"}}\n')
    result = runner.invoke(app, ["identify", "--jsonl", str(source), "--scheduler",
                                 "tcp://127.0.0.1:9"], standalone_mode=True)
    assert result.exit_code != 0
    assert "cannot connect to the Dask scheduler at tcp://127.0.0.1:9" in str(result.exception)


def test_partitions_fit_the_row_bound_and_come_in_multiples_of_the_workers(
        tmp_path: Path) -> None:
    path = tmp_path / "narrow.csv"
    rows = 2_000_000
    path.write_bytes(b"brand,model\n" + b"Hikvision,DS-2CD2043\n" * rows)  # 21 bytes a row
    with path.open("rb") as stream:
        width = row_bytes(stream)
        assert width is not None
        size = block_size(path.stat().st_size, 2, width, rows=500_000)
        parts = list(csv_partitions(stream, size, keep=False).chunks)
    assert len(parts) % 2 == 0 and len(parts) >= 4
    assert all(p.size // 21 <= 500_000 for p in parts)
    assert block_size(5 << 30, 2, 40.0) <= MAX_BLOCK
    assert block_size(None, 2) == MAX_BLOCK
