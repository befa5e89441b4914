"""Score a whole archive: articles in files in, two Parquet tables out, on one machine or Ray.

The fourth way in beside the service and the CLI's one-article commands; it imports ``model``
only. ``run.score`` is the entry point: plan the input (``plan``: rejects, duplicates, what
an earlier run already wrote), then label on Ray Data (``ray_engine``) or in this process
(``local_engine``); both read rows with ``sources``, label with ``labelling`` and write with
``output``, so their results agree.
"""
