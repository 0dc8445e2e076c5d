"""The Spark jobs, one module each: ``main(argv)`` = extract → pure transforms → load.

Run as ``spark-submit spark/tripclick_spark/jobs/<job>.py --date YYYY-MM-DD`` on the
cluster, or through the ``tripclick`` CLI locally.
"""
