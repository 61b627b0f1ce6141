"""The Model protocol: F: R^m -> R^n on fixed inputs, with its Jacobian.

docs/theory.md §0: F(w) in R^n, DF(w) in R^{n x m}, tangent kernel K = DF DF^T.
Subclasses implement ``_F`` and ``_jacobian`` once, generically in an array namespace
(plproof.numeric.arith); the public methods choose the namespace and set its precision.

The built-in families (Linear, TwoLayer, RandomFeatures, MLP) carry closed forms for DF, K, DF^T r, the
ball bounds (declared in ``ball_bound_sets``, docs/rigor.md §2.5) and the centre enclosures.
:func:`closed_form_obstacle` is the one rule saying whether those closed forms apply to a given model (a user
subclass may have changed F); where they do not, DF, K and DF^T r come from F itself (:func:`generic_model`)
and the ball bounds are sampled (docs/rigor.md §2.4).
"""

from __future__ import annotations

import abc
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, TypeVar

import mpmath
import numpy as np

from plproof.errors import InvalidInput, NotCertifiable
from plproof.models import activations
from plproof.numeric import arith as _arith
from plproof.numeric.arith import FLOAT64, Arith, MPArith
from plproof.numeric.ddarray import DDArray

if TYPE_CHECKING:
    from plproof.models.ball import BallBounds

#: the names of the bound sets every family answers: ``tight`` (docs/theory.md §11 where proved) and
#: ``theory`` (§4.1/§8); a family with one set gives it under both
BOUND_SETS = ("tight", "theory")


def bound_sets(tight: str, theory: str | None = None) -> Mapping[str, str]:
    """A ``Model.ball_bound_sets`` declaration: "module:Class" of the tight and the theory set (default: the same)."""
    return MappingProxyType({"tight": tight, "theory": theory or tight})


def check_finite_matrix(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a finite 2-D float64 array, or an InvalidInput saying what is wrong."""
    if np.iscomplexobj(X):
        if np.any(np.imag(np.asarray(X)) != 0):
            raise InvalidInput(f"{name} has complex entries: plproof checks real models, give the real data")
        X = np.real(X)
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a numeric array, got {type(X).__name__}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise InvalidInput(f"{name} must be a non-empty 2-D array (n points x d features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidInput(f"{name} has NaN or Inf (first at row {bad[0]}, column {bad[1]}): clean or drop those rows")
    return arr


def check_positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1, or an InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInput(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


#: What a subclass of a built-in family may redefine and keep the family's closed forms: ``__init__``
#: builds the state (X, width, activation, initial weights) that F and every closed form read alike,
#: ``default_w0`` picks the starting point that every formula takes as an argument, and ``describe``,
#: ``__repr__``, ``__str__`` only describe the model. Anything else the family defines counts as a change
#: of F, of its derivatives or of the meaning of w (see :func:`closed_form_obstacle`).
HARMLESS_OVERRIDES = frozenset({"__init__", "default_w0", "describe", "__repr__", "__str__"})
#: entries Python and abc.ABCMeta put in every class body: not definitions of the user's
_CLASS_METADATA = frozenset({
    "__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__annotations__", "__annotate__",
    "__annotate_func__", "__annotations_cache__", "__firstlineno__", "__static_attributes__", "__orig_bases__",
    "__parameters__", "__type_params__", "__abstractmethods__", "_abc_impl",
})
#: attribute-access hooks: any of them could change what the formulas read
_ATTRIBUTE_HOOKS = frozenset({"__getattr__", "__getattribute__", "__setattr__", "__delattr__"})
#: the built-in families, registered by :func:`closed_form_family`
_FAMILIES: list[type] = []

M = TypeVar("M", bound=type)


def closed_form_family(cls: M) -> M:
    """Class decorator (internal): ``cls`` is a built-in family whose F, DF, K, DF^T r, ball bounds and centre
    enclosures have closed forms in plproof (docs/theory.md §7, §8, §11, §13)."""
    _FAMILIES.append(cls)
    return cls


def family_class(model: "Model") -> type | None:
    """The nearest built-in family among the classes of ``model`` (None for adapters and direct Model subclasses)."""
    return next((cls for cls in type(model).__mro__ if cls in _FAMILIES), None)


def _redefines(family: type, name: str, value: Any) -> bool:
    """True when a class-body entry ``name = value`` below ``family`` may change what the closed forms compute.

    Overriding anything the family defines (its F, derivatives, kernel, split/join, parameter counts,
    smoothness, ``family`` label, Model's public methods, object's hooks) counts, except
    :data:`HARMLESS_OVERRIDES`; so does an attribute-access hook, and any data descriptor (a property, even
    under a new name, could stand in for state such as X that the formulas read). New methods and
    constants do not count: the family's code never reads a name it does not define or set.
    """
    if name in _CLASS_METADATA or name in HARMLESS_OVERRIDES:
        return False
    if name in _ATTRIBUTE_HOOKS or hasattr(family, name):
        return True
    return hasattr(type(value), "__set__") or hasattr(type(value), "__delete__")


def closed_form_obstacle(model: "Model") -> str | None:
    """Why the closed forms of ``model``'s built-in family do not apply to it; None when they do.

    The closed forms (DF, K, DF^T r, the ball bounds of docs/theory.md §7, §8, §11, §13, the centre
    enclosures of docs/rigor.md §3) were derived for the built-in classes with the built-in activations.
    They apply to an instance of Linear, TwoLayer, RandomFeatures or MLP, and to a subclass that redefines
    nothing but :data:`HARMLESS_OVERRIDES` (new helper methods and docstrings are fine), whose instance
    shadows none of the family's methods, and whose activation (if any) is the registry object
    ``activations.ACTIVATIONS[name]`` itself: a user :class:`~plproof.models.activations.Activation` has
    no proved S1-S3. None also for a model of no built-in family (adapters, direct Model subclasses), which
    supplies its own derivatives. This module function, not a method, is what plproof consults, so that a
    subclass cannot redefine the rule.
    """
    family = family_class(model)
    if family is None:
        return None
    trusted = set(family.__mro__)
    redefined = sorted({name for cls in type(model).__mro__ if cls not in trusted
                        for name, value in vars(cls).items() if _redefines(family, name, value)})
    shadowed = sorted(name for name in getattr(model, "__dict__", {}) if hasattr(family, name))
    reasons = []
    if redefined:
        reasons.append(f"{type(model).__name__} redefines {', '.join(redefined)}")
    if shadowed:
        reasons.append(f"the instance sets {', '.join(shadowed)}, shadowing the family's")
    act = getattr(model, "activation", None)
    if act is not None and not activations.is_builtin(act):
        reasons.append(f"user activation {getattr(act, 'name', act)!r}: S1-S3 not proved")
    if not reasons:
        return None
    return f"the closed forms of {family.__name__} do not apply: {'; '.join(reasons)}"


def generic_model(model: "Model") -> "Model":
    """``model``'s F with the generic derivatives of a Python callable (plproof/models/callable_model.py).

    DF by complex step where F accepts complex input, else central differences (in float64, or at twice
    the digits in a high-precision namespace); K = DF DF^T; DF^T r; ball bounds ``sampled``. Not cached on
    the model, so that copies and pickles of the model stay independent of it.
    """
    from plproof.models.callable_model import CallableModel  # it imports this module

    def F(w: np.ndarray) -> np.ndarray:
        # object arrays come from CallableModel's high-precision path, at the precision in force
        return model.F(w, MPArith(mpmath.mp.dps) if w.dtype == object else FLOAT64)

    view = CallableModel(F, model.n_params, w0=model.default_w0(), n_outputs=model.n_outputs)
    view.family = f"{type(model).__name__} (derivatives of F)"
    return view


class Model(abc.ABC):
    """A smooth (or honestly non-smooth) map from m parameters to n outputs."""

    #: family name used in certificates and reports
    family: str = "model"
    #: the family's bounds over a ball (docs/rigor.md §2.5): bound-set name (:data:`BOUND_SETS`) ->
    #: "module:Class" of a :class:`plproof.models.ball.BallBounds`, imported when first asked for (the built-in
    #: families' formulas live in plproof/theory/, above this layer). Empty: no bound over a ball is known.
    ball_bound_sets: Mapping[str, str] = MappingProxyType({})
    #: True when _F, _jacobian, _kernel and _vjp use only array operations (+ - * / @, indexing, reshape, .T,
    #: np.concatenate, np.where) and the namespace's functions, so that they also evaluate on double-double
    #: arrays (docs/rigor.md §12); other models evaluate in the namespace's fallback (:meth:`arithmetic`)
    array_generic: bool = False

    @property
    @abc.abstractmethod
    def n_outputs(self) -> int:
        """n, the number of equations (data points)."""

    @property
    @abc.abstractmethod
    def n_params(self) -> int:
        """m, the number of trained parameters."""

    @property
    def is_smooth(self) -> bool:
        """True when F is C^2 with bounded second derivatives, so ball bounds can be proved."""
        return True

    @abc.abstractmethod
    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        """F(w) in namespace ``ar`` (w already converted)."""

    @abc.abstractmethod
    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        """DF(w), n x m, in namespace ``ar``."""

    def _kernel(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        J = self._jacobian(w, ar)
        return J @ J.T

    def _vjp(self, w: np.ndarray, r: np.ndarray, ar: Arith) -> np.ndarray:
        return self._jacobian(w, ar).T @ r

    def ball_bounds(self, w0: Any, bounds: str = "tight") -> "BallBounds":
        """Bounds over B(w0, R) for every R >= 0 from the bound set ``bounds`` (docs/rigor.md §2.5): an
        immutable BallBounds centred at w0 with epsilon, delta >= sup_B ||DF(w) - DF(w0)|| and curvature.

        The set is the one this model's family declares in :attr:`ball_bound_sets`; where the family's closed
        forms do not apply (:func:`closed_form_obstacle`), the ``sampled`` bounds of F itself
        (:func:`generic_model`). A model that is not C^2 has none: NotCertifiable (docs/theory.md §9).
        """
        from plproof.models.ball import bound_set_class  # it imports this module

        if bounds not in BOUND_SETS:
            raise InvalidInput(f"unknown bound set {bounds!r}: use one of {', '.join(BOUND_SETS)}")
        if not self.is_smooth:
            act = getattr(self, "activation", None)
            why = getattr(self, "smooth_obstacle", None) or (f"activation {act.name!r} is not C^2" if act else "")
            raise NotCertifiable(f"{type(self).__name__} is not smooth (C^2){': ' + why if why else ''}, so no Hessian "
                                 "bound over a ball exists (docs/theory.md §9): use a smooth activation (tanh, "
                                 "sigmoid, softplus, sin, gelu)")
        if closed_form_obstacle(self) is not None:
            return generic_model(self).ball_bounds(w0, bounds)
        spec = self.ball_bound_sets.get(bounds)
        if spec is None:
            raise NotCertifiable(f"no bound over a ball is known for {type(self).__name__} models: declare "
                                 "ball_bound_sets (docs/rigor.md §2.5), or wrap F in CallableModel for sampled bounds")
        return bound_set_class(spec).at(self, w0)

    def default_w0(self) -> np.ndarray:
        """The family's initial parameters (its seeded initialisation; zeros if it has none)."""
        return np.zeros(self.n_params)

    def describe(self) -> dict:
        """Family, exact class and parameters, enough to rebuild the model (for certificates).

        The class is recorded so that a verifier rebuilds exactly this class: a user subclass that
        changes F inherits no closed form of its family.
        """
        cls = type(self)
        return {"family": self.family, "class": f"{cls.__module__}.{cls.__qualname__}",
                "n_outputs": self.n_outputs, "n_params": self.n_params}

    @property
    def closed_forms_apply(self) -> bool:
        """True when this model is of a built-in family and that family's closed forms apply to it.

        The rule is :func:`closed_form_obstacle`, which also says why not; where they do not apply,
        jacobian, kernel and vjp differentiate F numerically and a check is ``sampled`` at best.
        """
        return family_class(self) is not None and closed_form_obstacle(self) is None

    def arithmetic(self, arith: Arith | None = None) -> Arith:
        """The namespace this model evaluates in: ``arith`` (default: the one in force), or its fallback (mpmath
        at the same digits for double-double) unless the model is :attr:`array_generic` and its closed forms
        apply (:func:`closed_form_obstacle`: a subclass may have rewritten F for numpy arrays)."""
        ar = arith or _arith.current()
        fallback = getattr(ar, "fallback", ar)  # namespaces outside plproof.numeric.arith (the verifier's) have none
        if fallback is ar or (self.array_generic and closed_form_obstacle(self) is None):
            return ar
        return fallback

    # public methods: one namespace chosen here, the maths in the subclass
    def _prepare(self, w: Any, arith: Arith | None) -> tuple[np.ndarray, Arith]:
        ar = self.arithmetic(arith)
        raw = w if isinstance(w, (np.ndarray, DDArray)) else np.asarray(w)
        if isinstance(raw, np.ndarray) and raw.dtype.kind in "fc" and not np.isfinite(raw).all():
            raise InvalidInput("w has NaN or Inf entries: start from finite parameters")
        if raw.shape != (self.n_params,):
            raise InvalidInput(f"w must have length {self.n_params} (the number of parameters), got shape {raw.shape}")
        return ar.asarray(raw), ar

    def _derivatives(self, w: Any, arith: Arith | None) -> tuple["Model", np.ndarray, Arith]:
        """(the model whose _jacobian/_kernel/_vjp give this model's derivatives, w converted, namespace).

        That is this model, or :func:`generic_model` when :func:`closed_form_obstacle` names a reason;
        numerical derivatives have no enclosure, so then only float64 and high precision are allowed.
        """
        w_arr, ar = self._prepare(w, arith)
        reason = closed_form_obstacle(self)
        if reason is None:
            return self, w_arr, ar
        if not (ar.dtype == np.float64 or isinstance(ar, MPArith)):
            raise NotCertifiable(f"{reason}, so DF is differentiated numerically from F, which cannot be "
                                 f"enclosed in {ar.name}: use rigor sampled or high-precision")
        return generic_model(self), w_arr, ar

    def F(self, w: Any, arith: Arith | None = None) -> np.ndarray:
        """F(w) in R^n (docs/theory.md §0)."""
        w_arr, ar = self._prepare(w, arith)
        with ar.active():
            return self._F(w_arr, ar)

    def jacobian(self, w: Any, arith: Arith | None = None) -> np.ndarray:
        """DF(w) in R^{n x m} (docs/theory.md §0): closed form, or from F where the closed forms do not apply."""
        model, w_arr, ar = self._derivatives(w, arith)
        with ar.active():
            return model._jacobian(w_arr, ar)

    def kernel(self, w: Any, arith: Arith | None = None) -> np.ndarray:
        """Tangent kernel K(w) = DF DF^T in R^{n x n} (docs/theory.md §0), DF as in :meth:`jacobian`."""
        model, w_arr, ar = self._derivatives(w, arith)
        with ar.active():
            return model._kernel(w_arr, ar)

    def vjp(self, w: Any, r: Any, arith: Arith | None = None) -> np.ndarray:
        """DF(w)^T r, the square loss gradient when r = F(w) - y (docs/theory.md §0), DF as in :meth:`jacobian`."""
        model, w_arr, ar = self._derivatives(w, arith)
        r_arr = ar.asarray(r)
        if r_arr.shape != (self.n_outputs,):
            raise InvalidInput(f"r must have length {self.n_outputs}, got shape {r_arr.shape}")
        with ar.active():
            return model._vjp(w_arr, r_arr, ar)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n_outputs}, m={self.n_params})"



class HeldParameters:
    """Mixin for adapters of user code over data rows ``X`` (a torch module, a JAX function, a layer graph) that hold
    their starting parameters ``_w0`` and name why F is not C^2 in ``smooth_obstacle`` (None: it is)."""

    X: np.ndarray
    _w0: np.ndarray
    smooth_obstacle: str | None

    @property
    def n_outputs(self) -> int:
        return self.X.shape[0]

    @property
    def n_params(self) -> int:
        return self._w0.size

    @property
    def is_smooth(self) -> bool:
        return self.smooth_obstacle is None

    def default_w0(self) -> np.ndarray:
        return self._w0.copy()
