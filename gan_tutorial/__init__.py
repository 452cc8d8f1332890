"""gan_tutorial: the library behind the GAN notebooks.

The names below are what the notebooks import from here; everything else is imported from
its module: the GAN's own (``models``, ``losses``, ``train``, ``history``, ``data``,
``augment``, ``plots``) or a subpackage's (``metrics``, ``exercises``, ``lessons``,
``plumbing``).
"""
# lesson 00: a GAN on 2-D points, and its live playground
from .points import PointDiscriminator, PointGAN, PointGenerator
from .playground import Playground
# the networks
from .models import (ConvDiscriminator, DBlock, DCGANDiscriminator, DCGANGenerator, FCDiscriminator,
                     FCGenerator, GBlock, UpsampleGenerator, count_parameters, weights_init)
# training them, and each lesson's settings
from .train import GANTrainer
from .lessons import make_evaluator, preset
# the data
from .data import (DatasetNotFoundError, data_root, first_images, limit_dataset, load_celeba, load_mnist,
                   load_pokemon, make_loader, spread_images, toy_points)
# what a learner looks at: images, curves, the progress animation
from .plots import (plot_d_outputs, plot_decision, plot_digit_histogram, plot_diversity, plot_epoch_losses,
                    plot_generator_gradients, plot_leaky_relu, plot_losses, plot_metric, plot_mode_coverage,
                    plot_point_sets, plot_points_frame, plot_training, save_progress_gif, show_checkerboard_demo,
                    show_dataset, show_images, show_progress, show_real_vs_fake)
# how good the fakes are
from .metrics import classify_digits, diversity_ratio, mnist_quality, mnist_reference_digits, predicted_digits
# where and how long it runs
from .plumbing.environment import lesson_setting, quick_mode
from .plumbing.runtime import get_device, seed_everything

__version__ = "0.1.0"
