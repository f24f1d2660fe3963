"""Sample grids and PNG files."""

import numpy as np
import pytest
import tensorflow as tf

from unigen.images import make_grid, save_grid


def test_grid_layout_and_level_scaling():
    images = np.stack([np.full((2, 3, 1), k, np.float32) for k in range(5)])
    grid = make_grid(images, num_levels=5, columns=3, padding=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 1) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 64 and grid[5, 5, 0] == 255
    assert grid[0].max() == 0  # padding row


def test_png_round_trip(tmp_path):
    images = np.random.RandomState(0).randint(0, 17, size=(9, 8, 8, 1))
    path = save_grid(str(tmp_path / "g.png"), images, num_levels=17, scale=2)
    decoded = tf.io.decode_png(tf.io.read_file(path)).numpy()
    expected = np.repeat(np.repeat(make_grid(images, num_levels=17), 2, 0), 2, 1)
    np.testing.assert_array_equal(decoded, expected)


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match="height, width"):
        make_grid(np.zeros((4, 8, 8)))


def test_other_channel_counts_are_shown_side_by_side():
    pairs = np.stack([np.zeros((2, 3, 3)), np.full((2, 3, 3), 16.0)], axis=-1)  # a | b
    grid = make_grid(pairs, num_levels=17, padding=0, columns=1)
    assert grid.shape == (6, 6, 1)
    assert (grid[:, :3] == 0).all() and (grid[:, 3:] == 255).all()


def test_save_grid_puts_the_given_number_of_images_per_row(tmp_path):
    import numpy as np
    import tensorflow as tf

    from unigen.images import save_grid

    images = np.zeros((54, 8, 8, 1))  # 6 rows of 9, as beta_vae_digits' traversal
    images[9:18] = 16  # the second row white
    save_grid(str(tmp_path / "g.png"), images, num_levels=17, scale=1, columns=9)
    grid = tf.io.decode_png(tf.io.read_file(str(tmp_path / "g.png"))).numpy()[..., 0]
    assert grid.shape == (6 * 9 + 1, 9 * 9 + 1)
    assert grid[10:18, 1:].max() == 255 and grid[1:9, 1:].max() == 0  # row 2, not row 1
    assert grid[19:27, 1:].max() == 0
