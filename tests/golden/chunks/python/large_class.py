import io

from .base import Base


@register("blocks")
class BlockStore(Base):
    """A store of fixed-size blocks on disk.

    Blocks are cached in memory and written back on flush.
    """

    block_size: int = 4096
    cache_limit = 64

    def open(self, index: int, data: bytes | None = None) -> int:
        """Open the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for open")
        return self._dispatch("open", index, data)

    def close(self, index: int, data: bytes | None = None) -> int:
        """Close the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for close")
        return self._dispatch("close", index, data)

    def read_block(self, index: int, data: bytes | None = None) -> int:
        """Read block the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for read_block")
        return self._dispatch("read_block", index, data)

    def write_block(self, index: int, data: bytes | None = None) -> int:
        """Write block the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for write_block")
        return self._dispatch("write_block", index, data)

    def seek(self, index: int, data: bytes | None = None) -> int:
        """Seek the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for seek")
        return self._dispatch("seek", index, data)

    def tell(self, index: int, data: bytes | None = None) -> int:
        """Tell the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for tell")
        return self._dispatch("tell", index, data)

    def flush(self, index: int, data: bytes | None = None) -> int:
        """Flush the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for flush")
        return self._dispatch("flush", index, data)

    def truncate(self, index: int, data: bytes | None = None) -> int:
        """Truncate the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for truncate")
        return self._dispatch("truncate", index, data)

    def stat(self, index: int, data: bytes | None = None) -> int:
        """Stat the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for stat")
        return self._dispatch("stat", index, data)

    def rename(self, index: int, data: bytes | None = None) -> int:
        """Rename the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for rename")
        return self._dispatch("rename", index, data)

    def chmod(self, index: int, data: bytes | None = None) -> int:
        """Chmod the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for chmod")
        return self._dispatch("chmod", index, data)

    def lock(self, index: int, data: bytes | None = None) -> int:
        """Lock the block at index."""
        if index < 0 or index >= self.count:
            raise IndexError(f"block {index} out of range for lock")
        return self._dispatch("lock", index, data)
