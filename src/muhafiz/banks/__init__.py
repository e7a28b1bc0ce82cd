"""Django-free hash banks: hash-list formats in and out, and the exact/near-match index."""
