// Package openapi serves the OpenAPI v2 and v3 documents of skiff's API
// server, generated from the k8s.io/api types, in the shape kube-apiserver
// 1.32 produces. kubectl needs them: create, apply (client-side and
// --server-side), edit and replace validate by default (--validate=strict),
// and explain renders these schemas.
//
// # What it serves
//
//   - GET /openapi/v3: the index, {"paths":{"api/v1":{"serverRelativeURL":
//     "/openapi/v3/api/v1?hash=HEX"}, ...}}. It has one entry per group
//     version of the routes, plus "api", "apis", "apis/G" for each group, and
//     "version". HEX is the upper-case SHA-512 of the document's JSON.
//   - GET /openapi/v3/{key}[?hash=HEX]: one document, as JSON or (on request)
//     protobuf. If the hash matches, the response is cacheable for good
//     (Cache-Control: public, immutable). A stale hash gets a 301 to the
//     current URL. An unknown key gets a 404 Status.
//   - GET /openapi/v2: every route in one document. By Accept it is sent as
//     JSON, or as the protobuf kubectl asks for
//     (application/com.github.proto-openapi.spec.v2@v1.0+protobuf).
//
// Every response carries an ETag and answers If-None-Match with 304. Bodies
// of 128 KiB and more are gzip-encoded when the client accepts gzip. Only
// GET and HEAD are allowed.
//
// # The documents
//
// Schemas come from openapi-gen output in ./generated (see generate.go). They
// are keyed like upstream (io.k8s.api.apps.v1.Deployment), and kinds carry
// x-kubernetes-group-version-kind. Paths, operation IDs, parameters, content
// types and responses follow k8s.io/apiserver's installer. Resource
// operations carry x-kubernetes-action and x-kubernetes-group-version-kind. kubectl's strict validation looks for the
// PATCH operation of the object's GVK that has a fieldValidation query
// parameter. When it finds one, it sends fieldValidation=Strict and leaves
// validation to the server.
//
// The built-in documents are built once, in New, and never change. The
// bytes are deterministic, so hashes (and kubectl's caches) stay valid across
// restarts. The protobuf forms and gzip encodings are made on first request.
//
// # Custom resources
//
// SetCustomResources publishes the custom resources of CustomResourceDefinitions
// (apiextensions.k8s.io/v1, whose own schemas are generated like the
// built-in ones) as apiextensions-apiserver's OpenAPI builder does. Each
// served version of each established CRD is added to a v3 document at
// apis/<group>/<version>, titled "Kubernetes CRD Swagger". If a built-in
// group version has that key, the CRD is merged into the built-in document
// instead. Its paths are list (also across namespaces), create,
// deletecollection, read, replace, patch and delete, with status and scale
// (autoscaling/v1 Scale) when the version has those subresources. As
// upstream, there are no /watch/ paths, and only JSON, YAML and the JSON
// patch types are listed. Every operation carries the CR's
// x-kubernetes-group-version-kind. PATCH has fieldValidation, so kubectl
// validates custom resources on the server too. The kind's definition is
// named by the reversed group (com.example.stable.v1.CronTab), and so is
// its List kind. It holds the version's openAPIV3Schema in structural form:
// int-or-string is unfolded into anyOf, metadata is a $ref to ObjectMeta,
// apiVersion and kind are added, and so are the apiVersion, kind and
// metadata of x-kubernetes-embedded-resource nodes. Selectable fields
// become x-kubernetes-selectable-fields. A schema that is not structural is
// published as a bare object.
//
// /openapi/v2 is the built-in document with the CR paths, definitions and
// parameters merged in. Built-in entries win, and their bytes are kept. The
// v2 schemas follow upstream's v2 conversion. It drops allOf, anyOf, oneOf,
// not and defaults. Nullable nodes lose their type and children and are
// removed from required. Preserve-unknown-fields nodes lose their children,
// and their object type, and so do arrays without items. When unknown fields
// are preserved at the root, the kind is a bare object. Otherwise kubectl's
// v2 validation would reject the unknown fields. The v3 document keeps the
// schema.
//
// SetCustomResources takes the full list each time. It rebuilds only the
// documents whose CRDs changed, plus the v2 document, and it swaps the
// document set atomically. The index lists the new keys and hashes. It
// drops the keys of CRDs that went away, whose URLs then get 404.
//
// # Caller's duties
//
//  1. Pass New the same resources that discovery serves: the same kinds,
//     verbs and subresources. Give scale subresources the GVK autoscaling/v1
//     Scale and pods/eviction policy/v1 Eviction, as in discovery. An error
//     from New means the route list is wrong: an unknown verb, a kind not
//     registered here, or a duplicate.
//  2. Mount the Service so it receives /openapi/v2 and /openapi/v3 and
//     everything under /openapi/v3/. It serves the same documents to every
//     user, so put authentication in front of it if the server needs it.
//  3. Implement what the documents advertise. That means at least
//     fieldValidation=Strict|Warn|Ignore on create, update and patch.
//     kubectl trusts the server to reject unknown fields. The documents also
//     list yaml and protobuf response types, as upstream does. Clients
//     choose formats from their own configuration, not from these
//     documents.
//  4. If an outer middleware compresses responses, it must skip responses
//     that already have a Content-Encoding.
//  5. To serve another API group (e.g. rbac.authorization.k8s.io/v1), add
//     its package to the go:generate line in generate.go and run
//     `go generate ./internal/openapi`. Then add its AddToScheme in
//     scheme.go.
//  6. Call SetCustomResources with every CRD whenever one is added,
//     changed or deleted. That includes status changes, because only
//     established CRDs and served versions are published. Passing the same
//     list again is cheap. Passing nil removes all custom resources. The
//     call blocks while it builds: about 0.1 s for one changed CRD among 50.
//     Discovery should list the same custom resources. If the call returns
//     an error for some CRDs (no kind, list kind or plural, or a definition
//     name that clashes with a built-in one), the others are still
//     published. If building fails, the previous documents stay.
//
// Not covered: aggregated APIs and metrics.k8s.io (no schemas are
// generated for them). Also not covered: the apiextensions.k8s.io/v1beta1
// CRD API, and non-resource paths other than /api, /apis, /apis/G and
// /version. Custom resource documents have no apis/<group> entry in the
// index, as upstream. Their definitions omit the alpha shardSelector list
// parameter, like the built-in ones.
package openapi
