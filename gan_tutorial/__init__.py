"""gan_tutorial: the helper library behind the GAN notebooks.

Notebooks import everything from here: ``from gan_tutorial import *`` style names
below, or the modules (``models``, ``data``, ``train``, ``plots``, ``animation``,
``metrics``, ``fid``, ``mnist_classifier``) directly.
"""
from .plots import progress_animation, save_progress_gif, show_progress
from .plumbing.environment import lesson_setting, quick_mode
from .plumbing.checkpoint import CheckpointError, check_writable, load_checkpoint
from .data import (CorruptDatasetError, DatasetNotFoundError, UnreadableImageError, data_root,
                   find_unreadable_images, first_images, image_transform, limit_dataset,
                   load_celeba, load_image_folder, load_mnist, load_pokemon, make_loader,
                   spread_images)
from .metrics.fid import InceptionUnavailableError, fid_available, fid_evaluator, image_fid, image_quality
from .metrics import (classify_digits, digit_distribution, diversity, diversity_curve, diversity_ratio,
                      mnist_evaluator, mnist_frechet_distance, mnist_frechet_reference, mnist_quality,
                      mnist_reference_digits, predicted_digits)
from .metrics.mnist_classifier import MNISTClassifier, load_mnist_classifier
from .models import (ConvDiscriminator, D_block, DBlock, DCGANDiscriminator, DCGANGenerator,
                     FCDiscriminator, FCGenerator, G_block, GBlock, UpsampleGenerator,
                     count_parameters, weights_init)
from .plots import (plot_d_outputs, plot_digit_histogram, plot_diversity, plot_epoch_losses,
                    plot_generator_gradients, plot_leaky_relu, plot_losses, plot_metric, plot_training,
                    show_checkerboard_demo, show_dataset, show_images, show_real_vs_fake)
from .lessons import make_evaluator, preset, quality_references
from .plumbing.runtime import get_device, seed_everything
from .history import History, TrainingDivergedError, to_uint8
from .train import GANTrainer

__version__ = "0.1.0"
