"""Live streams of poses to other programs: VMC (avatars, game engines) and plain JSON over UDP."""
