package search

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
)

// Service implements [searchv1.SearchServiceServer] over a [Store]. Create
// one with [New] or [NewService].
type Service struct {
	searchv1.UnimplementedSearchServiceServer
	store  Store
	logger *slog.Logger
}

// NewService returns a Service over store. A nil logger means
// slog.Default(). The Service owns the store: [Service.Close] closes it.
func NewService(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{store: store, logger: logger}
}

// Register registers the Service on r.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	searchv1.RegisterSearchServiceServer(r, s)
}

// Close closes the store.
func (s *Service) Close() { s.store.Close() }

// SearchDocuments streams the documents that contain every word of the
// query, in id order, with progress events. A query with no letters or
// digits fails with codes.InvalidArgument.
func (s *Service) SearchDocuments(req *searchv1.SearchDocumentsRequest, stream grpc.ServerStreamingServer[searchv1.SearchDocumentsResponse]) error {
	ctx := stream.Context()
	q, ok := ParseQuery(req.GetQuery(), req.GetLimit())
	if !ok {
		return status.Error(codes.InvalidArgument, "query: no words to search for; words are runs of letters and digits")
	}
	return s.status(ctx, "search", s.store.Search(ctx, q, stream.Send))
}

// GetDocument returns one document by id, or codes.NotFound.
func (s *Service) GetDocument(ctx context.Context, req *searchv1.GetDocumentRequest) (*searchv1.GetDocumentResponse, error) {
	d, err := s.store.Get(ctx, req.GetId())
	if err != nil {
		return nil, s.status(ctx, "get document", err)
	}
	return &searchv1.GetDocumentResponse{Document: d}, nil
}

// status maps a store error to the status the client sees: the one table
// of this service. Causes the client need not see are logged and replaced.
func (s *Service) status(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, "document not found")
	case ctx.Err() != nil:
		// The call ended; whatever failed, failed because of that.
		return status.FromContextError(ctx.Err()).Err()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	if _, ok := status.FromError(err); ok {
		// A stream send error already is a status.
		return err
	}
	s.logger.ErrorContext(ctx, "search: "+op+" failed", slog.Any("error", err))
	return status.Error(codes.Internal, op+" failed")
}
