"""Each model `predict` serves, scored as it answers: on the real-photo check set and on the demo
test split (the table of the README's "How the default was chosen").

    .venv/bin/python tools/score_models.py

Each model of ``pipeline.RECIPES`` is loaded as ``python -m gle_utils.predict --model NAME``
loads it (trained on the demo set on first use, then kept in the cache) and answers every photo
with ``predict.answers``: the label it reports, an "unknown" counted wrong. Prints, per model,
the check-set photos it gets right (in all and per hand label) and its accuracy on the demo
test photos, as a Markdown table. Nothing in the repository is written.
"""

from __future__ import annotations

import argparse

import pandas as pd

from gle_utils import config, datasets, pipeline, predict


def right_answers(model: pipeline.GroupEmotionModel, photos: pd.DataFrame) -> pd.Series:
    """True for each photo of ``photos`` whose reported label is its own (rows follow ``photos``)."""
    reported = predict.answers(model, model.inputs(photos.path.tolist()))
    return pd.Series(reported.label.to_numpy() == photos.label.to_numpy(), index=photos.index)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    check = datasets.load_check_set()
    demo = datasets.load_dataset("demo", verbose=False)
    test = demo[demo.split == "test"].reset_index(drop=True)
    counts = check.label.value_counts().reindex(list(config.CLASSES), fill_value=0)
    rows = []
    for name in pipeline.RECIPES:
        model = predict.load_model(model=name)
        on_check, on_test = right_answers(model, check), right_answers(model, test)
        by_class = on_check.groupby(check.label).sum().reindex(list(config.CLASSES), fill_value=0)
        rows.append({"model": name + (" (the default)" if name == pipeline.DEFAULT_MODEL else ""),
                     f"right on the check set ({len(check)})": int(on_check.sum()),
                     "of " + " / ".join(f"{counts[c]} {c}" for c in config.CLASSES): " / ".join(map(str, by_class)),
                     f"demo test ({len(test)} photos)": f"{on_test.mean():.3f}"})
    print(pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
