"""HdrHistogram percentile files (.hgrm), as convoy-client --hgrm and HdrHistogram write them."""


def read(path):
    """(rows, maximum): rows of (value, percentile, total count, 1/(1-p)) for p < 1, and the
    largest value (the 100 % row, which has no 1/(1-p)). ValueError when there are no rows."""
    rows, maximum = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 3 or line.lstrip().startswith("#"):
                continue
            try:
                value, percentile = float(fields[0]), float(fields[1])
            except ValueError:
                continue  # the header
            if len(fields) >= 4 and percentile < 1.0:
                rows.append((value, percentile, int(float(fields[2])), float(fields[3])))
            maximum = value if maximum is None else max(maximum, value)
    if not rows:
        raise ValueError(f"{path}: no percentile rows (not an .hgrm file?)")
    return rows, maximum
