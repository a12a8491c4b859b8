"""Search engines other than the version files: Milvus (optional extra `milvus`, imported only when configured)."""
