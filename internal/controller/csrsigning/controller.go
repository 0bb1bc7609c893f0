package csrsigning

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/skiff-sh/skiff/internal/certificates"
	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Name is the controller's name in the manager's registry (kube-controller-manager's name for it).
const Name = "csrsigning"

// MaxDuration caps the certificates' lifetime, as kube-controller-manager's --cluster-signing-duration (default 1 year).
const MaxDuration = 365 * 24 * time.Hour

// Controller signs approved CSRs with the cluster CA.
type Controller struct {
	client kubernetes.Interface
	ca     *controller.ClusterSigner
	lister certlisters.CertificateSigningRequestLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	clock  clock.Clock
	log    *slog.Logger
}

var _ controller.Controller = (*Controller)(nil)

// New builds the controller from the manager's shared context.
func New(cc controller.Context) (controller.Controller, error) {
	inf := cc.Informers.Certificates().V1().CertificateSigningRequests()
	c := &Controller{
		client: cc.Client,
		ca:     cc.ClusterSigner,
		lister: inf.Lister(),
		queue:  controller.NewQueue[string](Name),
		clock:  cc.Clock,
		log:    cc.LogOrDefault().With("controller", Name),
	}
	if c.clock == nil {
		c.clock = clock.Real{}
	}
	enqueue := func(obj any) {
		if csr, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
			c.queue.Add(csr.Name)
		}
	}
	synced, err := controller.AddHandlers(controller.Handler{What: "certificatesigningrequest", Informer: inf.Informer(),
		Handler: cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) }}})
	if err != nil {
		return nil, err
	}
	c.synced = synced
	return c, nil
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) error {
	if c.ca == nil || c.ca.Cert == nil || c.ca.Key == nil {
		c.queue.ShutDown()
		c.log.Warn("no cluster CA key in the controller context; approved CSRs are not signed")
		<-ctx.Done()
		return nil
	}
	return controller.RunQueue(ctx, Name, c.log, c.queue, c.synced, workers, c.sync)
}

// sync signs CSR name if it is approved and unsigned; see the package documentation.
func (c *Controller) sync(ctx context.Context, name string) (controller.Result, error) {
	csr, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	now := c.clock.Now()
	certPEM, ok, reason, err := certificates.Sign(csr, c.ca.Cert, c.ca.Key, now, MaxDuration)
	if err != nil {
		return controller.Result{}, fmt.Errorf("sign %s: %w", name, err)
	}
	if !ok && reason == "" {
		return controller.Result{}, nil // nothing to do: not approved, already signed, or not our signer
	}
	out := csr.DeepCopy() // never mutate the cached object
	if ok {
		out.Status.Certificate = certPEM
	} else {
		t := metav1.NewTime(now)
		out.Status.Conditions = append(out.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue, Reason: certificates.ReasonSignerValidationFailure,
			Message: reason, LastUpdateTime: t, LastTransitionTime: t,
		})
	}
	if _, err := c.client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return controller.Result{}, fmt.Errorf("update status of %s: %w", name, err)
	}
	return controller.Result{}, nil
}
