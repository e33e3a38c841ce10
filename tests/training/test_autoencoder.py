import torch
from scipy.spatial.transform import Rotation

from engine.core.skeletons import H36M_17, MONOCAP_BODY
from training.lifter.autoencoder import AffineAutoencoder, concat_permutation


def _ae():
    perm = concat_permutation([MONOCAP_BODY.mirror_permutation(), H36M_17.mirror_permutation()])
    ae = AffineAutoencoder(list(perm), side_pairs=5, central=4)
    with torch.no_grad():  # arbitrary, asymmetric weights: the constraints must hold anyway
        ae.enc_raw.normal_()
        ae.dec_raw.normal_()
    return ae, perm


def test_weights_sum_to_one():
    ae, _ = _ae()
    assert torch.allclose(ae.encoder_weights().sum(-1), torch.ones(ae.num_latent), atol=1e-5)
    assert torch.allclose(ae.decoder_weights().sum(-1), torch.ones(ae.num_joints), atol=1e-5)


def test_code_commutes_with_rotation_translation_and_mirroring():
    ae, perm = _ae()
    x = torch.randn(4, ae.num_joints, 3, dtype=torch.float32)
    r = torch.as_tensor(Rotation.random(random_state=3).as_matrix(), dtype=torch.float32)
    t = torch.tensor([0.3, -1.0, 2.0])
    moved = x @ r.T + t
    assert torch.allclose(ae.encode(moved), ae.encode(x) @ r.T + t, atol=1e-4)
    assert torch.allclose(ae(moved), ae(x) @ r.T + t, atol=1e-4)
    flip = torch.tensor([-1.0, 1.0, 1.0])
    mirrored = x[:, torch.as_tensor(perm)] * flip
    z = ae.encode(x)
    assert torch.allclose(ae.encode(mirrored), z[:, ae.latent_perm] * flip, atol=1e-4)
    assert torch.allclose(ae(mirrored), ae(x)[:, torch.as_tensor(perm)] * flip, atol=1e-4)
