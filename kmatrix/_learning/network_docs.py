"""The parameters and fitted attributes KMatrixRegressor and KMatrixClassifier
document alike (numpydoc sections, composed into their docstrings)."""

__all__ = ["ATTRIBUTES_DOC", "PARAMETERS_DOC"]

PARAMETERS_DOC = """    hidden_layer_sizes : array-like of int, default=()
        The sizes of the hidden layers, as in MLPRegressor; each hidden
        layer is a K-matrix of shape (size, size of the layer before) with a
        bias and ``activation``. The default ``()`` is one layer from the
        features to the outputs.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        The activation of the hidden layers (as in the MLPs).
    width : int, default=1
        Number of BB* blocks of every K-matrix layer (more is more expressive).
    structure : {"kmatrix", "butterfly"}, default="kmatrix"
        "kmatrix": every K-matrix layer learns all its twiddles, ``(B B*)^w``;
        "butterfly": only the first half of each block, ``(B*)^w`` (the
        second half stays the identity): half the parameters, and still
        every transform with a fast butterfly algorithm (the Hadamard and
        Fourier transforms, up to a bit reversal), the survey's class B.
    expansion : int, default=1
        Every K-matrix layer of shape (n_out, n_in) works on size
        ``N = next_pow2(expansion * max(n_in, n_out))``; more is more
        expressive.
    output_layer : {"kmatrix", "dense"}, default="kmatrix"
        The last layer: a K-matrix, or a dense matrix (fewer parameters when
        there are few outputs: ``n_outputs * n_in`` against about
        ``4 N log2 N``).
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        "adam" and "sgd" (with ``momentum``) take mini-batch steps;
        "lbfgs" is scipy's L-BFGS-B on every parameter at once over the
        whole training set, often the best choice for small data sets (as
        in the MLPs).
    learning_rate_init : float, default=1e-2
        The step size of "adam" and "sgd" (Adam's is bias-corrected, as in
        the MLPs). Ten times the MLPs' 1e-3, by measurement: a K-matrix's
        twiddles are O(1) entries of 2 x 2 blocks multiplied through
        ``2 log N`` stages, and at 1e-3 the default 200 epochs leave
        R^2 = 0.29 on a scaled 16 x 16 Hadamard map (0.94 at 1e-2, 1.00 at
        3e-2) and 0.18 on a 128 x 128 DCT (0.44 at 1e-2); 1e-1 diverges on
        the DCT.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; "auto" is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs ("adam", "sgd") or of iterations ("lbfgs").
    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs".
    tol : float, default=1e-4
        "adam" and "sgd" stop when the loss (or, with ``early_stopping``,
        the validation score) has not improved by ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs; "lbfgs" when the largest
        entry of the projected gradient is at most ``tol``.
    alpha : float, default=0.0
        L2 penalty on the weights (the twiddles of K-matrix layers and the
        dense output layer): ``alpha / 2 * ||weights||^2`` per mini-batch,
        divided by its size as the MLPs do.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when their score
        stops improving and keep the best model seen ("adam", "sgd").
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    fit_intercept : bool, default=True
        Learn the biases; otherwise they are 0.
    warm_start : bool, default=False
        Start ``fit`` from the current model instead of a new random one.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial layers, the shuffling and the validation split.
        A fixed seed gives the same model whatever the number of threads.
    verbose : int, default=0
        Print one line per epoch: loss, validation score (with early
        stopping) and elapsed time.
    init : {"ortho", "identity", "normal"}, KMatrix or list, default="ortho"
        The starting K-matrix layers: random orthogonal 2x2 blocks (every
        layer a corner of an orthogonal matrix: signals keep their scale
        through the layers), the identity (``W = I`` padded or cut: the
        network starts as a relu/tanh of its input, and structure grows
        from there), Gaussian blocks, or a given KMatrix (copied) to
        fine-tune a known transform. A list gives one init per layer
        (for a dense output layer: a string, for Glorot's uniform
        initialization, or an array). See the user guide's measured
        comparison for which to use when.
    field : {"real", "complex"}, default="real"
        "complex" learns every K-matrix layer as the real part
        (:attr:`KMatrix.real`) of a complex K-matrix: twice the real
        parameters and about three times the cost per step, but real
        transforms such as the DCT become exact members.
    shuffle : bool, default=True
        Shuffle the rows at every epoch.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with SGD.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Adam's numerical stability term.
"""

ATTRIBUTES_DOC = """    layers_ : list of KMatrix (and ndarray)
        The weights, first layer first: a KMatrix of shape (n_out, n_in)
        per layer, and a dense ndarray for a dense output layer. Its
        twiddles are float32 when X is float32, else float64 (complex of
        that precision with ``field="complex"``).
    intercepts_ : list of ndarray
        The biases, one per layer (zeros if ``fit_intercept=False``).
    kmatrix_ : KMatrix
        ``layers_[-1]`` when it is a K-matrix: without hidden layers the
        model's only weight.
    intercept_ : ndarray
        ``intercepts_[-1]``.
    n_params_ : int
        Real numbers the network learns (twiddles, dense weights, biases).
    n_params_dense_ : int
        The same count for the dense MLP of the same layer sizes:
        ``n_params_ / n_params_dense_`` is what the structure saves.
    n_layers_ : int
        Number of layers, input and output included (as in the MLPs).
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        The output layer's activation.
    loss_ : float
        The last epoch's (or L-BFGS's final) training loss.
    loss_curve_ : list of float
        The training loss per epoch (per iteration for "lbfgs"), penalty
        included.
    best_loss_ : float or None
        The lowest training loss (None with early stopping).
    validation_scores_ : list of float or None
        The score on the held-out rows per epoch (early stopping only).
    best_validation_score_ : float or None
        The best of ``validation_scores_``.
    n_iter_ : int
        Epochs (iterations for "lbfgs") run by the last ``fit``
        (cumulated by ``partial_fit``).
    t_ : int
        Training rows seen by the optimizer (epochs x rows).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.
"""
