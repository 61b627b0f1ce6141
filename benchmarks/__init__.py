"""Side-by-side benchmarks: each prints timings and ratios against peers measured in the same run."""
