"""binder/postBuild's last step: cache the VGGFace features of the demo faces, once, at build time.

With its weights fetched, VGGFace costs a fraction of a second of one CPU core a face (both
passes); over the demo set's faces that would keep a student waiting many minutes in notebook 03,
and as long again for MTCNN's faces in 07. Features are cached by file content, so they are
computed here, once, and the notebooks find them. On the offline backbone there is nothing to do:
it is fast enough to run in the notebooks. (`make bench-binder` times this step under Binder's
limits.)
"""

from gle_utils import backbones, datasets, pipeline

net = backbones.get_backbone("auto")
if net.name == "vggface":
    paths = datasets.load_dataset("demo", verbose=False).path
    for detector in ("sequential", "mtcnn"):  # the paper's detector (03-07) and 07's CNN ablation
        pipeline.photo_inputs(paths, net, detector=detector, progress=False)
        print(f"VGGFace features of the demo faces ({detector}) cached")
