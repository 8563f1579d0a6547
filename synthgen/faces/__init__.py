"""Faces: the procedural head-and-shoulders painter that document portraits and the GeneGAN
training pairs both draw from (no torch here; the GAN lives in `synthgen.gan`)."""
