using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Tests.Infrastructure;

public sealed class HttpBodiesTests
{
    [Fact]
    public async Task ReadJsonAsync_WhenTheClientStopsMidBody_AnswersItsStatusInProblemDetails()
    {
        // What Kestrel throws when a body ends before its Content-Length (a client timing out or dropping).
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = 1000;
        context.Request.Body = new FailingStream(new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest));

        var (body, error) = await HttpBodies.ReadJsonAsync(context.Request, 4096, TestContext.Current.CancellationToken);

        Assert.Null(body);
        var problem = Assert.IsType<ProblemHttpResult>(error);
        Assert.Equal(StatusCodes.Status400BadRequest, problem.StatusCode);
        Assert.Equal("Unexpected end of request content.", problem.ProblemDetails.Detail);
    }

    [Fact]
    public async Task ReadJsonAsync_WhenTheBodyIsComplete_ReturnsItsBytes()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json; charset=utf-8";
        context.Request.Body = new MemoryStream("{\"a\":1}"u8.ToArray());

        var (body, error) = await HttpBodies.ReadJsonAsync(context.Request, 4096, TestContext.Current.CancellationToken);

        Assert.Null(error);
        using (body)
        {
            Assert.Equal("{\"a\":1}"u8.ToArray(), body!.Memory.ToArray());
        }

        Assert.Throws<ObjectDisposedException>(() => body.Memory);
    }

    [Fact]
    public async Task ReadJsonAsync_WhenTheBodyOutgrowsItsFirstBuffer_KeepsEveryByteInOrder()
    {
        // No Content-Length (chunked): the pooled buffer starts small and has to grow several times.
        var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)('a' + i % 26)).ToArray();
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(bytes);

        var (body, error) = await HttpBodies.ReadJsonAsync(context.Request, 1_000_000, TestContext.Current.CancellationToken);

        Assert.Null(error);
        using (body)
        {
            Assert.Equal(bytes, body!.Memory.ToArray());
        }
    }

    [Fact]
    public async Task ReadJsonAsync_WhenTheBodyExceedsTheLimitWithoutAContentLength_Answers413()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(new byte[50_000]);

        var (body, error) = await HttpBodies.ReadJsonAsync(context.Request, 20_000, TestContext.Current.CancellationToken);

        Assert.Null(body);
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, Assert.IsType<ProblemHttpResult>(error).StatusCode);
    }

    private sealed class FailingStream(Exception error) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(error);
    }
}
