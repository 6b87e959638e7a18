#!/usr/bin/env python3
"""Reads a flowd dataset directory with pyarrow, as any user would: every
Parquet file under it (names starting with '.' or '_' are skipped, as
pyarrow does by default), schemas unified across batches. Prints one JSON
object: the row count, the column names and the values of one column."""
import json
import sys

import pyarrow.dataset as ds

path, column = sys.argv[1], sys.argv[2]
dataset = ds.dataset(path, format="parquet")
table = dataset.to_table()
values = table.column(column).to_pylist()
print(json.dumps({"rows": table.num_rows, "columns": table.column_names, "values": values}))
