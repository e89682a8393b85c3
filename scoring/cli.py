"""`apertura rollup ...`: roll imported per-institution scores up through an index model
and print them by institution, state, type, order or for the nation."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click
import pandas as pd

from .io import read_csv
from .model import IndexModel, ModelError
from .pipeline import InputError
from .rollup import RollupResult
from .rollup import rollup as rollup_scores


def run_rollup(model: str, input_path: str | Path, *, by: str = "state", id_column: str | None = None,
               state_column: str | None = None, type_column: str | None = None,
               order_column: str | None = None, maps: tuple[str, ...] = ()) -> tuple[pd.DataFrame, RollupResult]:
    """Read the CSV, roll it up and return (table by `by`, full result)."""
    index_model = IndexModel.load(model)
    column_map = {}
    for entry in maps:
        if "=" not in entry:
            raise click.BadParameter(f"--map espera ORIGEN=CÓDIGO / expects SRC=CODE, got {entry!r}")
        src, code = entry.split("=", 1)
        column_map[src.strip()] = code.strip()
    read = read_csv(input_path)
    result = rollup_scores(read.frame, index_model, id_column=id_column, state_column=state_column,
                    type_column=type_column, order_column=order_column, column_map=column_map,
                    lines=read.line_of_row, repairs=read.repairs)
    codes = [c for c in (n.code for n in index_model.tree.walk()) if c in result.aggregation.codes]
    table = result.by(by, codes)
    return table, result


def _records(table: pd.DataFrame, decimals: int) -> list[dict]:
    out = []
    for row in table.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, float):
                clean[k] = None if math.isnan(v) else round(v, decimals)
            elif hasattr(v, "item"):
                clean[k] = v.item()
            else:
                clean[k] = v
        out.append(clean)
    return out


@click.command()
@click.option("--model", "model", required=True, help="Shipped model id or .model.yaml path.")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV with one row per institution.")
@click.option("--id-column", default=None, help="Institution column (default: institution or SO).")
@click.option("--state-column", default=None, help="State column (default: state or edo).")
@click.option("--type-column", default=None, help="Type column (default: type or ts).")
@click.option("--order-column", default=None, help="Order-of-government column (default: order or niv).")
@click.option("--map", "maps", multiple=True, metavar="SRC=CODE", help="Map a column to a model code.")
@click.option("--by", type=click.Choice(["institution", "state", "type", "order", "state_type", "nation"]),
              default="state", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--decimals", type=int, default=4, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@click.option("--strict", is_flag=True, help="Exit 1 when any row has a problem.")
def rollup(model, input_path, id_column, state_column, type_column, order_column, maps, by, fmt,
                   decimals, out, strict) -> None:
    """Roll imported scores up through an index model (e.g. MGA 2017 sub-indices → GA)."""
    try:
        table, result = run_rollup(model, input_path, by=by, id_column=id_column, state_column=state_column,
                                   type_column=type_column, order_column=order_column, maps=maps)
    except ModelError as exc:
        raise click.ClickException("modelo inválido / invalid model:\n" + str(exc)) from exc
    except InputError as exc:
        raise click.ClickException("\n".join(str(i) for i in exc.issues)) from exc
    for repair in result.repairs:
        click.echo(f"{input_path}:{repair.line}: repaired / reparada: {repair.how}", err=True)
    errors = 0
    for issue in result.issues:
        where = f"{input_path}:{issue.row}: " if issue.row is not None else f"{input_path}: "
        click.echo(f"{where}{issue.severity}: {issue.message_en} / {issue.message_es}", err=True)
        errors += issue.severity == "error"
    if fmt == "json":
        text = json.dumps(_records(table, decimals), ensure_ascii=False, indent=1) + "\n"
    else:
        text = table.round(decimals).to_csv(index=False, lineterminator="\n")
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if strict and errors:
        raise click.ClickException(f"{errors} filas con problemas / rows with problems")



def check_models(paths: list[str], lang: str = "es") -> tuple[list[str], bool]:
    """The lines `model check` prints for `paths` (issues, or a summary), and whether any failed."""
    lines: list[str] = []
    failed = False
    for path in paths:
        try:
            loaded = IndexModel.load(path)
        except ModelError as err:
            failed = True
            lines += [issue.format(lang) for issue in err.issues]
            continue
        except (OSError, UnicodeDecodeError) as err:
            failed = True
            lines.append(f"{path}: {'cannot read' if lang == 'en' else 'no se puede leer'}: {err}")
            continue
        nodes = loaded.nodes()
        leaves = len(loaded.leaves())
        levels = ", ".join(loaded.levels())
        instruments = ", ".join(loaded.instruments) or "-"
        if lang == "en":
            lines.append(f"{path}: ok — model {loaded.id} {loaded.version}, {len(nodes)} nodes, "
                         f"{leaves} leaves, levels {levels}, instruments {instruments}")
        else:
            lines.append(f"{path}: correcto — modelo {loaded.id} {loaded.version}, {len(nodes)} nodos, "
                         f"{leaves} hojas, niveles {levels}, instrumentos {instruments}")
    return lines, failed


@click.group("model")
def model_group() -> None:
    """Check index model files."""


@model_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
def model_check(files: tuple[Path, ...], lang: str) -> None:
    """Check index models against their questionnaires; print FILE:LINE: node: message; exit 1 on errors."""
    lines, failed = check_models([str(f) for f in files], lang)
    for line in lines:
        click.echo(line)
    if failed:
        raise SystemExit(1)
