"""File writers for takes and solved rigs (BVH, TRC). Dispatch by extension: engine/formats.py."""
