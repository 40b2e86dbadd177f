"""Every result of the series in one table: the paper's figure, the authors' code's, and the one
the course's notebooks printed (notebook 09).

Nothing is run here. Each ``Result`` names the cell of a notebook that prints one result (by the
cell's id, which editing a notebook keeps) and the regular expressions that find its figures in
that cell's printed text; the paper's and the authors' code's figures are written beside it, each
with its source. ``read_result`` reads one result out of an executed notebook, ``series_results``
the whole table, from the notebooks of a folder: the committed ones in notebooks/ (the demo run),
or the executed copies of a GAF run (runs/gaf/, where ``make run DATASET=gaf`` writes them).

A result that a notebook did not print (the notebook is missing, did not run that far, or skipped
the cell, say a test split without labels) is reported as ``NOT_RUN``, never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .backbones import IDENTITY_NETWORKS

__all__ = ["NOT_RUN", "RESULTS", "Result", "as_markdown", "notebook_link", "printed_text", "read_result",
           "run_settings", "series_figures", "series_results"]

NOT_RUN = "not run"

# How the data of a run is named in the table, by the notebooks' `dataset` parameter.
_DATA_NAMES = {"demo": "demo set", "gaf": "your GAF-layout folder"}


@dataclass(frozen=True)
class Result:
    """One result of the series, where each of the three sources gives it.

    Parameters
    ----------
    key : str
        A short name (``series_figures`` is keyed by it).
    what : str
        What is measured, in words.
    notebook : str
        The stem of the notebook that prints it (``07_weighted_ensemble``).
    cell : str
        The id of the code cell whose printed text holds it.
    patterns : tuple of str
        Regular expressions (``re.M``: ``^`` and ``$`` match at each line) with named groups;
        each must match the cell's text, and their groups fill ``shown`` and ``here_data`` (a
        group ``identity_name`` names the identity network the cell used).
    shown : str
        The figure here, a ``str.format`` template of the groups.
    paper, code : str
        The paper's figure and the authors' code's (arassadin/emotiw2017), each with its source.
    paper_data : str
        The data and the model behind the paper's figure.
    here_data : str
        The same for the figure here: a template of the groups and of ``{data}`` (the run's
        dataset, in words) and ``{identity}`` (the identity network the run used).
    until : str, optional
        Read the cell's text only up to the first line holding this (a second table after it).
    """

    key: str
    what: str
    notebook: str
    cell: str
    patterns: tuple[str, ...]
    shown: str
    paper: str
    code: str
    paper_data: str
    here_data: str
    until: str | None = None


_GAF_VGGFACE = "GAF 2.0 val; VGGFace"
_TABLE2_FORESTS = "RGB avgpool / RGB fc7 / BGR avgpool / BGR fc7"

RESULTS: tuple[Result, ...] = (
    Result("splits", "photos per split", "01_data_overview", "8ef37d05",
           (r"^train\s.*?(?P<train>\d+)\s*$", r"^val\s.*?(?P<val>\d+)\s*$", r"^test\s.*?(?P<test>\d+)\s*$"),
           "train {train}, val {val}, test {test}",
           "train 3630, val 2065, test 772 (Table 1)", "`3630 2065 772` (`release.ipynb`, section 1, `In [7]`)",
           "GAF 2.0", "{data}", until="GAF 2.0"),
    Result("faceless", "photos in which the paper's detector finds no face", "01_data_overview", "2c07696c",
           (r"found no face: (?P<n>\d+) of (?P<of>\d+) \((?P<share>[\d.]+%)\)",),
           "{n} of {of} ({share})",
           "not given", "163 (train 77, val 45, test 41; `release.ipynb`, section 1, `In [12]`)",
           "GAF 2.0; dlib HOG, then OpenCV Haar", "{data}; the same two detectors"),
    Result("detector", "the paper's detector on real photos with hand-checked boxes", "02_face_detection", "c41e7693",
           (r"^sequential\s+(?P<faces>\d+)\s+\d+\s+(?P<hits>\d+)\s+(?P<recall>[\d.]+)\s+(?P<precision>[\d.]+)",),
           "recall {recall}, precision {precision} ({hits} of {faces} faces)",
           "not given", "not in the released code",
           "-", "group photos that ship in packages, boxes checked by hand"),
    Result("face_probe", "valence of each face from one layer (linear probe, balanced accuracy)", "03_face_features",
           "takeaway-figures",
           (r"best layer (?P<layer>\w+) (?P<best>[\d.]+), identity output (?P<output>\w+) (?P<out>[\d.]+), "
            r"landmark distances (?P<landmarks>[\d.]+)", r"^network: (?P<identity_name>[\w-]+)"),
           "best layer ({layer}) {best}; identity output ({output}) {out}; landmark distances {landmarks}",
           "not measured: identity and expression features assumed \"rather similar\" (2.3)",
           "not in the released code", "-", "{data} faces, people left out of training; {identity}"),
    Result("channels", "the channel trick: RGB against BGR", "03_face_features", "takeaway-figures",
           (r"^network: (?P<identity_name>[\w-]+)", r"^\s*(?P<a>\w+): rgb_ (?P<a_rgb>[\d.]+), bgr_ (?P<a_bgr>[\d.]+)[^\n]*\n"
            r"\s*(?P<b>\w+): rgb_ (?P<b_rgb>[\d.]+), bgr_ (?P<b_bgr>[\d.]+)",),
           "probe, RGB / BGR: {a} {a_rgb} / {a_bgr}, {b} {b_rgb} / {b_bgr}",
           "forests, RGB / BGR: avgpool 69.78 / 70.11%, fc7 67.62 / 68.18% (Table 2)",
           "forests, RGB (norm=3) / BGR (norm=1): avgpool 69.85 / 69.60%, fc7 67.67 / 68.32% "
           "(`release.ipynb`, section 3, `In [25]`)",
           _GAF_VGGFACE, "{data} faces; {identity}, RGB / BGR: the order the network sees"),
    Result("pooling", "median minus mean pooling (Random Forest, points)", "04_median_vs_mean_pooling", "takeaway-figures",
           (r"\(\w+, (?P<identity_name>[\w-]+), \d+ paired runs", r"^\s*random_forest\s+mean of the (?P<n>\d+) sets\s+(?P<mean>[+-]?[\d.]+); "
            r"per set from (?P<low>[+-]?[\d.]+) to (?P<high>[+-]?[\d.]+)",),
           "{mean} on average over {n} feature sets (from {low} to {high})",
           "the mean \"degrades the accuracy on 1-2%\" (2.3)", "only the median (`release.ipynb`, section 2, `In [8]`)",
           _GAF_VGGFACE, "{data}, train -> val, paired runs; {identity}"),
    Result("landmarks", "landmark member alone, val", "05_landmark_distances", "59ee1efd",
           (r"^per-face forest, sum \(authors\)\s+(?P<sum>[\d.]+)", r"^median over faces, photo forest\s+(?P<median>[\d.]+)"),
           "{sum} (per-face forest, summed: the authors' way); {median} (median over faces)",
           "65.16% (Table 2)", "64.75% on the 2020 val photos with a face (`release.ipynb`, section 3, `In [15]`)",
           "GAF 2.0 val; dlib's 68 landmarks", "{data} val photos with a face; dlib's 68 landmarks"),
    Result("centrist", "CENTRIST + SVM baseline, val", "06_classifier_comparison", "2dfa0886",
           (r"train -> val: (?P<acc>[\d.]+%) on (?P<n>\d+) val photos",),
           "{acc}", "52.97% (Table 2); 53.62% on test (section 4)", "not in the released code",
           "GAF 2.0 val; the organisers' baseline", "{data}, {n} val photos; `scene.CentristSVM`"),
    Result("forests", "four forests on the face network's features, val", "07_weighted_ensemble", "019df0ec",
           (r"^vggface_rgb_avgpool\s+\S+\s+(?P<ra>[\d.]+)", r"^vggface_rgb_fc7\s+\S+\s+(?P<rf>[\d.]+)",
            r"^vggface_bgr_avgpool\s+\S+\s+(?P<ba>[\d.]+)", r"^vggface_bgr_fc7\s+\S+\s+(?P<bf>[\d.]+)"),
           "{ra} / {rf} / {ba} / {bf}",
           f"69.78 / 67.62 / 70.11 / 68.18% ({_TABLE2_FORESTS}, Table 2)",
           "69.85 / 67.67 / 69.60 / 68.32% in the same order (`release.ipynb`, section 3, `In [25]`, which "
           "prints the BGR pair first)",
           _GAF_VGGFACE, "{data} val photos with a face; {identity}"),
    Result("whole_image", "whole-image member alone, val", "07_weighted_ensemble", "019df0ec",
           (r"^whole_image\s+\S+\s+(?P<acc>[\d.]+)", r"whole_image = (?P<whole>[^.;\n]+)"),
           "{acc}", "65.89% (Table 2)", "not printed (its predictions are loaded: `release.ipynb`, section 2, `In [5]`)",
           "GAF 2.0 val; VGG16 from ImageNet, fine-tuned", "{data} val; {whole}"),
    Result("ensemble_val", "the ensemble, val (weights: val accuracies)", "07_weighted_ensemble", "340285e0",
           (r"^val-accuracy weights \(paper\)\s+sum \(authors\)\s+(?P<all>[\d.]+)\s+(?P<face>[\d.]+)",
            r"whole_image = (?P<whole>[^;\n]+)"),
           "{all} (all photos), {face} (photos with a face)", "75.39% (Table 2)",
           "- (the code's weights are fixed: next row)", _GAF_VGGFACE,
           "{data} val; {identity}, the landmarks, {whole}"),
    Result("ensemble_fixed_weights", "the ensemble, val (the authors' fixed weights)", "07_weighted_ensemble", "340285e0",
           (r"^authors' fixed weights\s+sum \(authors\)\s+(?P<all>[\d.]+)\s+(?P<face>[\d.]+)",),
           "{all} (all photos), {face} (photos with a face)", "- (the paper says val-accuracy weights, 2.5)",
           "0.75396 on the 2020 val photos with a face (`release.ipynb`, section 4, `In [10]`)", _GAF_VGGFACE,
           "{data} val; as above"),
    Result("without_whole_image", "the ensemble without the whole-image member, val", "07_weighted_ensemble", "340285e0",
           (r"^without the whole-image member\s+sum \(authors\)\s+(?P<all>[\d.]+)\s+(?P<face>[\d.]+)",),
           "{all} (all photos), {face} (photos with a face)", "72.77% (Table 2)", "not in the released code",
           _GAF_VGGFACE, "{data} val; as above"),
    Result("cnn_detector", "the ensemble on faces of a CNN detector, val", "07_weighted_ensemble", "fc559ff8",
           (r"^sequential\s+[\d.]+\s+\d+\s+(?P<seq>[\d.]+)", r"^(?P<det>mtcnn|mmod)\s+[\d.]+\s+\d+\s+(?P<cnn>[\d.]+)"),
           "{cnn} with {det} faces, {seq} with the paper's detector (all photos)",
           "66.51% with Tiny Faces, 75.39% with HOG/Viola-Jones (Table 2)", "not in the released code",
           _GAF_VGGFACE, "{data} val; {identity}"),
    Result("ensemble_test", "the ensemble, test", "07_weighted_ensemble", "2c6cfae3",
           (r"^all photos\s+(?P<n>\d+)\s+(?P<acc>[\d.]+)",),
           "{acc} ({n} photos)", "78.53% (section 4)",
           "- (GAF's test labels were never released; `release.ipynb`, section 5, writes the submission)",
           "GAF 2.0 test, scored by the challenge; VGGFace", "{data} test: people in neither train nor val"),
    Result("confusion", "confusion diagonal, Positive / Neutral / Negative", "07_weighted_ensemble", "2c6cfae3",
           (r"^Positive\s+(?P<p>[\d.]+)\s+[\d.]+\s+[\d.]+\s*$", r"^Neutral\s+[\d.]+\s+(?P<u>[\d.]+)\s+[\d.]+\s*$",
            r"^Negative\s+[\d.]+\s+[\d.]+\s+(?P<n>[\d.]+)\s*$"),
           "{p} / {u} / {n} (test)", "0.80 / 0.66 / 0.80 on val (Figure 3)",
           "the same (`release.ipynb`, section 4, `In [36]`)", _GAF_VGGFACE,
           "{data} test (notebook 07 draws val's)"),
    Result("identity_vs_expression", "identity against expression features: the best layer of each network (probe)",
           "08_identity_vs_expression", "cell-09",
           (r"^(?P<identity_net>\S+)\s+best layer \w+\s+(?P<ib>[\d.]+); its output \(\w+\) (?P<io>[\d.]+)",
            r"^fer2013-xception\s+best layer \w+\s+(?P<fb>[\d.]+)", r"^faceapi-expression\s+best layer \w+\s+(?P<ab>[\d.]+)"),
           "{identity_net} {ib} (its output {io}); fer2013-xception {fb}; faceapi-expression {ab}",
           "not run: training on expressions is named as the usual way (2.3)",
           "`train_rafd.py` at commit 4a30318 trains an expression ResNet-101 on RaFD; no result is reported",
           "-", "{data} train -> val, photos with a face; {identity} and two expression networks"),
    Result("zero_shot", "zero-shot valence from expression networks, val", "08_identity_vs_expression", "cell-15",
           (r"^fer2013-xception\s+(?P<f>[\d.]+)", r"^faceapi-expression\s+(?P<a>[\d.]+)"),
           "fer2013-xception {f}, faceapi-expression {a} (photos with a face)", "not tried", "-",
           "-", "{data} val; no training on group photos"),
    Result("expression_val", "the ensemble with both expression members, val", "08_identity_vs_expression", "cell-23",
           (r"^the paper's six members\s+(?P<paper>[\d.]+)", r"^paper \+ both expression members\s+(?P<both>[\d.]+)"),
           "{paper} -> {both} (all photos)", "not tried", "-", "-", "{data} val; {identity}"),
    Result("expression_test", "the ensemble with both expression members, test", "08_identity_vs_expression", "cell-30",
           (r"^the paper's six members\s+(?P<paper>[\d.]+)", r"^paper \+ both expression members\s+(?P<both>[\d.]+)"),
           "{paper} -> {both} (all photos)", "not tried", "-", "-", "{data} test; {identity}"),
    Result("real_photos", "real group photos labelled right (paper's detector)", "08_identity_vs_expression", "cell-26",
           (r"right, of (?P<n>\d+) photos",
            r"^sequential\s+(?P<p>\d+)\s+(?P<e>\d+)\s+(?P<zf>\d+)\s+(?P<za>\d+)\s+(?P<zr>\d+)\s*$"),
           "of {n}: ensemble {p}, with expression members {e}; zero-shot {zf} (fer), {za} (face-api), "
           "{zr} (both averaged: the zero-shot row)",
           "not tried", "-", "-", "photos from packages, hand labels; trained on the {data}"),
    Result("time", "time a face: extraction path and bare network", "A1_speed_and_memory", "takeaway-figures",
           (r"^(?P<net>\S+): whole path (?P<whole>[\d.]+) ms a face, bare network (?P<bare>[\d.]+) ms",),
           "{net}: {whole} ms (whole path), {bare} ms (bare network)", "not given", "not measured",
           "-", "{data} photos, this machine's CPU"),
    Result("vggface", "VGGFace: time a face and peak memory", "A1_speed_and_memory", "takeaway-figures",
           (r"VGGFace, random weights: (?P<ms>\d+) ms a face \(8 faces\), peak memory (?P<gb>[\d.]+) GB",),
           "{ms} ms a face, {gb} GB", "not given", "not measured", "-",
           "VGGFace's shapes, random weights; this machine's CPU"),
)


def _joined(value) -> str:
    """A notebook field as text: the JSON file stores a cell's source or an output's text as a
    string or as a list of lines."""
    return "".join(value) if isinstance(value, list) else (value or "")


def printed_text(notebook: dict, cell_id: str) -> str | None:
    """What a cell printed (its stdout, and any text/plain result), or None if the notebook has no
    such cell or the cell printed nothing. ``notebook``: the notebook's JSON, as a dict."""
    for cell in notebook.get("cells", []):
        if cell.get("id") == cell_id and cell.get("cell_type") == "code":
            parts = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stdout":
                    parts.append(_joined(output.get("text")))
                elif output.get("output_type") in ("execute_result", "display_data"):
                    parts.append(_joined(output.get("data", {}).get("text/plain")))
            text = "".join(parts)
            return text if text.strip() else None
    return None


# Where a notebook's outputs name the identity network it used: "'vggface_*' = <label>" (06, 07),
# "identity network: <label>" (08), "network: <name>" (03), "backbone: <name>" (A1), or the notice
# that the run fell back to the offline backbone.
_IDENTITY_SAID = (r"vggface_\*'? = (?P<label>[^;\n]+?)(?:;|$)", r"identity network: (?P<label>[^;\n]+?)\s*$",
                  r"\b(?:network|backbone): (?P<name>[\w-]+)", r"offline backbone '(?P<name>[\w-]+)'")


def _identity_label(name: str) -> str:
    return IDENTITY_NETWORKS[name].label if name in IDENTITY_NETWORKS else name


def run_settings(notebook: dict) -> dict[str, str]:
    """The run's data and identity network, in words: the ``dataset`` of the notebook's
    parameters (papermill's injected cell first), and the identity network its outputs name
    ("the identity network" where they name none)."""
    dataset = "demo"
    cells = notebook.get("cells", [])
    tagged = [c for c in cells if {"injected-parameters", "parameters"} & set(c.get("metadata", {}).get("tags", []))]
    tagged.sort(key=lambda c: "injected-parameters" not in c.get("metadata", {}).get("tags", []))
    for cell in tagged:
        found = re.search(r"^dataset\s*=\s*[\"'](\w+)[\"']", _joined(cell.get("source")), re.M)
        if found:
            dataset = found.group(1)
            break
    text = "\n".join(_joined(o.get("text")) for c in cells if c.get("cell_type") == "code" for o in c.get("outputs", []))
    identity = "the identity network"
    for pattern in _IDENTITY_SAID:
        found = re.search(pattern, text, re.M)
        if found:
            said = found.groupdict()
            identity = said["label"].strip() if said.get("label") else _identity_label(said["name"])
            break
    return {"data": _DATA_NAMES.get(dataset, dataset), "identity": identity}


@lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int) -> dict:
    """A notebook file's JSON, read once for all its results (read again once it has changed).
    Plain JSON, not nbformat: importing nbformat costs seconds, and only outputs are read here."""
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def read_result(result: Result, notebooks_dir: str | Path) -> tuple[str, str, dict[str, str]]:
    """(the figure here, its data and model, the groups read) of one result, from the executed
    notebook in ``notebooks_dir``; (``NOT_RUN``, "-", {}) where it was not printed.

    >>> read_result(RESULTS[0], "/no/such/folder")[0]
    'not run'
    """
    path = Path(notebooks_dir) / f"{result.notebook}.ipynb"
    if not path.is_file():
        return NOT_RUN, "-", {}
    notebook = _read(str(path.resolve()), path.stat().st_mtime_ns)
    text = printed_text(notebook, result.cell)
    if text is None:
        return NOT_RUN, "-", {}
    if result.until:
        lines = text.split("\n")
        text = "\n".join(lines[:next((i for i, line in enumerate(lines) if result.until in line), len(lines))])
    groups: dict[str, str] = {}
    for pattern in result.patterns:
        found = re.search(pattern, text, re.M)
        if found is None:
            return NOT_RUN, "-", {}
        groups.update({name: value.strip() for name, value in found.groupdict().items() if value is not None})
    names = {**run_settings(notebook), **groups}
    if "identity_name" in groups:
        names["identity"] = _identity_label(groups["identity_name"])
    return result.shown.format(**names), result.here_data.format(**names), groups


def notebook_link(stem: str) -> str:
    """A markdown link to a notebook of the series by its number: ``[07](07_weighted_ensemble.ipynb)``."""
    return f"[{stem.split('_', 1)[0]}]({stem}.ipynb)"


def series_results(notebooks_dir: str | Path) -> pd.DataFrame:
    """Every result of ``RESULTS``: one row each, with the notebook that printed it, the paper's
    figure, the authors' code's, the figure here (``NOT_RUN`` where it was not printed), and the
    data and model behind the paper's and behind this run's.

    >>> bool(series_results("/no/such/folder")["here"].eq(NOT_RUN).all())
    True
    """
    rows = []
    for result in RESULTS:
        here, here_data, _ = read_result(result, notebooks_dir)
        rows.append({"notebook": notebook_link(result.notebook), "result": result.what, "paper": result.paper,
                     "authors' code": result.code, "here": here, "paper: data, model": result.paper_data,
                     "here: data, model": here_data})
    return pd.DataFrame(rows)


def series_figures(notebooks_dir: str | Path) -> dict[str, dict[str, str]]:
    """{result's ``key``: the figures read for it, by group name} (empty where not run): for
    comparisons computed from the figures, as notebook 09 prints them."""
    return {result.key: read_result(result, notebooks_dir)[2] for result in RESULTS}


def as_markdown(table: pd.DataFrame) -> str:
    """A table as a GitHub markdown table (its cells as they are; a "|" in one is escaped).

    >>> print(as_markdown(pd.DataFrame({"a": [1], "b": ["x|y"]})))
    | a | b |
    |---|---|
    | 1 | x\\|y |
    """
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)
